using System.Collections.Concurrent;
using Prometheus;
using Proxy.Abstractions;
using Proxy.Host.Routing;

namespace Proxy.Host.Observability;

/// <summary>
/// What fleet routing did and how well it predicted (gateway_* names: LiteLLM has none of this): decisions by kind, the
/// error of the predicted cached prefix against the engine's cached_tokens, and the token hit rate per model group (any
/// strategy, whenever the upstream reports cached_tokens).
/// </summary>
internal sealed class FleetRoutingMetrics : IRequestCompletionObserver
{
    public int Order => ObserverOrder.Metrics;

    // Signed: below 0 the index over-predicted (the engine had evicted), above it under-predicted.
    private static readonly double[] ErrorBuckets = [-16384, -4096, -1024, -256, -64, -16, 0, 16, 64, 256, 1024, 4096, 16384];

    private readonly Counter _decisions;
    private readonly Histogram _predictionError;
    private readonly Counter _promptTokens;
    private readonly Counter _cachedTokens;
    private readonly Gauge _hitRate;
    private readonly ConcurrentDictionary<string, HitTotals> _totals = new(StringComparer.Ordinal);

    public FleetRoutingMetrics(GatewayMetrics metrics, GatewayState state)
    {
        var factory = metrics.Factory;
        ExportEngineGauges(metrics, factory, state);
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
        var outcome = request.Outcome;
        if (outcome.ModelGroup is not { } group || outcome.Failed)
        {
            return;
        }

        if (outcome.RoutingDecision is { } decision)
        {
            _decisions.WithLabels(group, Label(decision)).Inc();
        }

        if (outcome.CachedPromptTokens is not { } cached || outcome.PromptTokens is not { } prompt || prompt <= 0)
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

    /// <summary>What the vLLM scraper last read per deployment (router_settings.vllm_metrics_interval), read at collection time.</summary>
    private static void ExportEngineGauges(GatewayMetrics metrics, IMetricFactory factory, GatewayState state)
    {
        string[] labels = ["model_group", "model_id"];
        var running = factory.CreateGauge("gateway_vllm_num_requests_running", "vllm:num_requests_running at the last scrape", labels);
        var waiting = factory.CreateGauge("gateway_vllm_num_requests_waiting", "vllm:num_requests_waiting at the last scrape", labels);
        var usage = factory.CreateGauge("gateway_vllm_kv_cache_usage", "vllm:kv_cache_usage_perc at the last scrape (0..1)", labels);
        var restarts = factory.CreateGauge("gateway_vllm_engine_restarts", "Engine restarts seen (process_start_time_seconds changed)", labels);
        var failures = factory.CreateGauge("gateway_vllm_scrape_failures", "Failed scrapes of the deployment's /metrics since start", labels);
        metrics.Registry.AddBeforeCollectCallback(() =>
        {
            foreach (var route in state.Current.Deployments.Values)
            {
                var deployment = route.Deployment;
                var engine = deployment.Stats.Engine;
                if (engine.Scrapes == 0 && engine.Failures == 0)
                {
                    continue;
                }

                running.WithLabels(deployment.ModelGroup, deployment.Id).Set(engine.Running);
                waiting.WithLabels(deployment.ModelGroup, deployment.Id).Set(engine.Waiting);
                usage.WithLabels(deployment.ModelGroup, deployment.Id).Set(engine.KvCacheUsage);
                restarts.WithLabels(deployment.ModelGroup, deployment.Id).Set(engine.Restarts);
                failures.WithLabels(deployment.ModelGroup, deployment.Id).Set(engine.Failures);
            }
        });
    }

    // Bounded labels: "prefix-hit 12 blocks" counts as prefix-hit.
    private static string Label(string decision) => decision switch
    {
        "home" or "spill" or "session" or "least-busy" => decision,
        _ when decision.StartsWith("prefix-hit", StringComparison.Ordinal) => "prefix-hit",
        _ => "other",
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
