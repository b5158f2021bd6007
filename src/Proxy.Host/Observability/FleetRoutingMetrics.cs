using System.Collections.Concurrent;
using Prometheus;
using Proxy.Abstractions;

namespace Proxy.Host.Observability;

/// <summary>
/// What fleet routing did and how well it predicted (gateway_* names: LiteLLM has none of this): decisions by kind, the
/// error of the predicted cached prefix against the engine's cached_tokens, and the token hit rate per model group (any
/// strategy, whenever the upstream reports cached_tokens).
/// </summary>
internal sealed class FleetRoutingMetrics : IRequestCompletionObserver
{
    // Signed: below 0 the index over-predicted (the engine had evicted), above it under-predicted.
    private static readonly double[] ErrorBuckets = [-16384, -4096, -1024, -256, -64, -16, 0, 16, 64, 256, 1024, 4096, 16384];

    private readonly Counter _decisions;
    private readonly Histogram _predictionError;
    private readonly Counter _promptTokens;
    private readonly Counter _cachedTokens;
    private readonly Gauge _hitRate;
    private readonly ConcurrentDictionary<string, HitTotals> _totals = new(StringComparer.Ordinal);

    public FleetRoutingMetrics(GatewayMetrics metrics)
    {
        var factory = metrics.Factory;
        _decisions = factory.CreateCounter("gateway_routing_decisions_total",
            "Fleet-aware routing decisions (x-litellm-routing-decision): prefix-hit, home, spill, session", ["model_group", "decision"]);
        _predictionError = factory.CreateHistogram("gateway_prefix_cache_prediction_error_tokens",
            "Engine-reported cached prompt tokens minus the prefix index's prediction, per answered request",
            new HistogramConfiguration { Buckets = ErrorBuckets, LabelNames = ["model_group"] });
        _promptTokens = factory.CreateCounter("gateway_prefix_cache_prompt_tokens_total",
            "Prompt tokens of answers that reported prompt_tokens_details.cached_tokens", ["model_group"]);
        _cachedTokens = factory.CreateCounter("gateway_prefix_cache_cached_tokens_total",
            "Cached prompt tokens (prompt_tokens_details.cached_tokens) the engines reported", ["model_group"]);
        _hitRate = factory.CreateGauge("gateway_prefix_cache_token_hit_rate",
            "Cached / prompt tokens since start, per model group (use the _total counters for a window)", ["model_group"]);
    }

    public void OnCompleted(HttpContext context, GatewayRequestContext request)
    {
        if (request.ModelGroup is not { } group)
        {
            return;
        }

        if (request.RoutingDecision != RoutingDecision.None && request.FailureKind == UpstreamFailureKind.None)
        {
            _decisions.WithLabels(group, Label(request.RoutingDecision)).Inc();
        }

        if (request.CachedPromptTokens is not { } cached || request.PromptTokens is not { } prompt || prompt <= 0
            || request.FailureKind != UpstreamFailureKind.None)
        {
            return;
        }

        _promptTokens.WithLabels(group).Inc(prompt);
        _cachedTokens.WithLabels(group).Inc(cached);
        var totals = _totals.GetOrAdd(group, static _ => new HitTotals());
        _hitRate.WithLabels(group).Set(totals.Add(prompt, cached));
        if (context.Features.Get<PromptBlocks>() is { PredictedTokens: >= 0 } blocks)
        {
            _predictionError.WithLabels(group).Observe(cached - blocks.PredictedTokens);
        }
    }

    private static string Label(RoutingDecision decision) => decision switch
    {
        RoutingDecision.PrefixHit => "prefix-hit",
        RoutingDecision.Home => "home",
        RoutingDecision.Spill => "spill",
        _ => "session",
    };

    private sealed class HitTotals
    {
        private long _prompt;
        private long _cached;

        public double Add(int prompt, int cached)
        {
            var total = Interlocked.Add(ref _prompt, prompt);
            var hit = Interlocked.Add(ref _cached, cached);
            return total == 0 ? 0 : (double)hit / total;
        }
    }
}
