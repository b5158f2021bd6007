using System.Collections.Concurrent;
using Prometheus;
using Proxy.Abstractions;
using Proxy.Transforms.Caching;
using Proxy.Transforms.Guardrails;

namespace Proxy.Host.Observability;

/// <summary>
/// The gateway's Prometheus metrics, under LiteLLM's names and labels where LiteLLM has them (so its dashboards and
/// alerts keep working) and <c>gateway_*</c> names for what is ours. One registry per gateway instance. Label values
/// are bounded: model group names, deployment ids and api bases from the config, key hashes and aliases, HTTP statuses
/// and error classes; never a key, never a raw user string.
/// </summary>
internal sealed class GatewayMetrics : IRequestCompletionObserver
{
    // LiteLLM's LATENCY_BUCKETS (seconds).
    private static readonly double[] LatencyBuckets =
    [
        0.005, 0.00625, 0.0125, 0.025, 0.05, 0.1, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5, 8, 8.5, 9, 9.5, 10,
        15, 20, 25, 30, 60, 120, 180, 240, 300,
    ];

    // LiteLLM's common label set "K".
    private static readonly string[] KeyLabels = ["end_user", "hashed_api_key", "api_key_alias", "requested_model", "team", "team_alias", "user"];
    private static readonly string[] DeploymentLabels = ["litellm_model_name", "model_id", "api_base", "api_provider"];
    private static readonly string[] DeploymentKeyLabels = ["requested_model", "litellm_model_name", "model_id", "api_base", "api_provider", "hashed_api_key", "api_key_alias", "team", "team_alias"];

    private readonly Counter _totalRequests;
    private readonly Counter _failedRequests;
    private readonly Histogram _totalLatency;
    private readonly Histogram _overheadLatency;
    private readonly Histogram _llmApiLatency;
    private readonly Histogram _timeToFirstToken;
    private readonly Counter _spend;
    private readonly Counter _totalTokens;
    private readonly Counter _inputTokens;
    private readonly Counter _outputTokens;
    private readonly Counter _cacheHits;
    private readonly Counter _cacheMisses;
    private readonly Counter _cachedTokens;
    private readonly Gauge _deploymentState;
    private readonly Counter _deploymentCooledDown;
    private readonly Counter _deploymentSuccess;
    private readonly Counter _deploymentTotal;
    private readonly Counter _deploymentFailure;
    private readonly Histogram _latencyPerOutputToken;
    private readonly Counter _successfulFallbacks;
    private readonly Counter _failedFallbacks;
    private readonly Gauge _remainingKeyBudget;
    private readonly Gauge _keyMaxBudget;
    private readonly Gauge _remainingKeyRequests;
    private readonly Gauge _remainingKeyTokens;
    private readonly Gauge _inFlight;
    private readonly Counter _retries;
    private readonly Counter _configReloads;
    private readonly Gauge _configVersion;
    private readonly Counter _guardrailBlocks;
    private readonly ConcurrentDictionary<SeriesKey, RequestSeries> _series = new();
    private readonly ConcurrentDictionary<DeploymentSeriesKey, DeploymentSeries> _deploymentSeries = new();

    private const int MaxCachedSeries = 4096;

    private readonly TimeProvider _time;

    private readonly Gauge _remainingTeamBudget;
    private readonly Gauge _teamMaxBudget;
    private readonly bool _endUserLabel;

    public GatewayMetrics(TimeProvider time, GuardrailStats? guardrails = null, CacheStats? cache = null, ISpendBufferStatus? spendBuffer = null,
        MetricsLabelOptions? labels = null, ISoftBudgetAlerts? softBudgets = null)
    {
        _time = time;
        _endUserLabel = labels?.EndUserLabel == true;
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        // No exemplars: they are only exposed in OpenMetrics format, and looking for a trace on every update costs CPU.
        factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
        // prometheus_client (LiteLLM) appends _total to counters when it exposes them; these are the exposed names.
        _totalRequests = factory.CreateCounter("litellm_proxy_total_requests_metric_total", "Requests made to the proxy, by status code",
            [.. KeyLabels, "status_code"]);
        _failedRequests = factory.CreateCounter("litellm_proxy_failed_requests_metric_total", "Requests the proxy answered with an error",
            [.. KeyLabels, "exception_status", "exception_class"]);
        _totalLatency = Histogram(factory, "litellm_request_total_latency_metric", "Seconds from request to the end of the response", [.. KeyLabels, "model"]);
        _overheadLatency = Histogram(factory, "litellm_overhead_latency_metric", "Seconds the gateway itself added before the upstream call", [.. KeyLabels, "model"]);
        _llmApiLatency = Histogram(factory, "litellm_llm_api_latency_metric", "Seconds of the upstream LLM API call",
            ["model", "hashed_api_key", "api_key_alias", "team", "team_alias", "requested_model", "end_user", "user"]);
        _timeToFirstToken = Histogram(factory, "litellm_llm_api_time_to_first_token_metric", "Seconds to the first streamed byte of the upstream",
            ["model", "hashed_api_key", "api_key_alias", "team", "team_alias"]);
        _spend = factory.CreateCounter("litellm_spend_metric_total", "Spend in USD", [.. KeyLabels, "model"]);
        _totalTokens = factory.CreateCounter("litellm_total_tokens_metric_total", "Input + output tokens", [.. KeyLabels, "model"]);
        _inputTokens = factory.CreateCounter("litellm_input_tokens_metric_total", "Input (prompt) tokens", [.. KeyLabels, "model"]);
        _outputTokens = factory.CreateCounter("litellm_output_tokens_metric_total", "Output (completion) tokens", [.. KeyLabels, "model"]);
        _cacheHits = factory.CreateCounter("litellm_cache_hits_metric_total", "Requests answered from the response cache", [.. KeyLabels, "model"]);
        _cacheMisses = factory.CreateCounter("litellm_cache_misses_metric_total", "Cacheable requests the cache could not answer", [.. KeyLabels, "model"]);
        _cachedTokens = factory.CreateCounter("litellm_cached_tokens_metric_total", "Tokens served from the response cache", [.. KeyLabels, "model"]);
        _deploymentState = factory.CreateGauge("litellm_deployment_state", "0 = healthy, 1 = partial outage (last call failed), 2 = complete outage (cooling down)",
            DeploymentLabels);
        _deploymentCooledDown = factory.CreateCounter("litellm_deployment_cooled_down_total", "Times a deployment was put in cooldown",
            [.. DeploymentLabels, "exception_status"]);
        _deploymentSuccess = factory.CreateCounter("litellm_deployment_success_responses_total", "Successful calls to a deployment", DeploymentKeyLabels);
        _deploymentTotal = factory.CreateCounter("litellm_deployment_total_requests_total", "Calls to a deployment", DeploymentKeyLabels);
        _deploymentFailure = factory.CreateCounter("litellm_deployment_failure_responses_total", "Failed calls to a deployment",
            [.. DeploymentKeyLabels, "exception_status", "exception_class"]);
        _latencyPerOutputToken = Histogram(factory, "litellm_deployment_latency_per_output_token", "Seconds per output token of a deployment",
            [.. DeploymentLabels, "hashed_api_key", "api_key_alias", "team", "team_alias"]);
        string[] fallbackLabels = ["requested_model", "fallback_model", "hashed_api_key", "api_key_alias", "team", "team_alias", "exception_status", "exception_class"];
        _successfulFallbacks = factory.CreateCounter("litellm_deployment_successful_fallbacks_total", "Requests answered by a fallback group", fallbackLabels);
        _failedFallbacks = factory.CreateCounter("litellm_deployment_failed_fallbacks_total", "Requests whose fallbacks failed too", fallbackLabels);
        _remainingKeyBudget = factory.CreateGauge("litellm_remaining_api_key_budget_metric", "Budget (USD) the virtual key has left",
            ["hashed_api_key", "api_key_alias"]);
        _keyMaxBudget = factory.CreateGauge("litellm_api_key_max_budget_metric", "max_budget (USD) of the virtual key", ["hashed_api_key", "api_key_alias"]);
        _remainingKeyRequests = factory.CreateGauge("litellm_remaining_api_key_requests_for_model", "Requests the virtual key may still send this minute",
            ["hashed_api_key", "api_key_alias", "model"]);
        _remainingKeyTokens = factory.CreateGauge("litellm_remaining_api_key_tokens_for_model", "Tokens the virtual key may still use this minute",
            ["hashed_api_key", "api_key_alias", "model"]);
        _remainingTeamBudget = factory.CreateGauge("litellm_remaining_team_budget_metric", "Budget (USD) the team has left", ["team_id", "team_alias"]);
        _teamMaxBudget = factory.CreateGauge("litellm_team_max_budget_metric", "max_budget (USD) of the team", ["team_id", "team_alias"]);
        _inFlight = factory.CreateGauge("gateway_in_flight_requests", "Requests being served right now");
        _retries = factory.CreateCounter("gateway_retries_total", "Retries within a model group", ["model_group"]);
        _configReloads = factory.CreateCounter("gateway_config_reloads_total", "Config reloads by result", ["result"]);
        _configVersion = factory.CreateGauge("gateway_config_version", "Version of the config being served (1 = the one loaded at start)");
        _guardrailBlocks = factory.CreateCounter("gateway_guardrail_blocks_total", "Requests or answers refused by a guardrail", ["guardrail", "model_group"]);
        Factory = factory;
        _configVersion.Set(1);
        if (spendBuffer is not null)
        {
            var depth = factory.CreateGauge("gateway_spend_log_buffer_depth", "Spend-log rows waiting to be written to the store");
            var capacity = factory.CreateGauge("gateway_spend_log_buffer_capacity", "Rows the spend-log buffer holds before it drops new ones");
            var dropped = factory.CreateCounter("gateway_spend_log_rows_dropped_total", "Spend-log rows dropped because the buffer was full");
            Registry.AddBeforeCollectCallback(() =>
            {
                depth.Set(spendBuffer.Depth);
                capacity.Set(spendBuffer.Capacity);
                dropped.IncTo(spendBuffer.Dropped);
            });
        }

        if (softBudgets is not null)
        {
            var crossed = factory.CreateCounter("gateway_soft_budget_alerts_total", "soft_budget crossings (one per budget window and holder)", ["entity"]);
            var failed = factory.CreateCounter("gateway_soft_budget_webhook_failures_total", "soft_budget webhook deliveries that failed after every retry");
            Registry.AddBeforeCollectCallback(() =>
            {
                foreach (var kind in softBudgets.Kinds)
                {
                    crossed.WithLabels(kind).IncTo(softBudgets.Count(kind));
                }

                failed.IncTo(softBudgets.FailedDeliveries);
            });
        }

        if (cache is not null)
        {
            var events = factory.CreateCounter("gateway_cache_events_total",
                "Response cache events: hit, miss, store, error (backend failed or timed out; the request went upstream), skipped_too_large, eviction",
                ["event"]);
            Registry.AddBeforeCollectCallback(() =>
            {
                events.WithLabels("hit").IncTo(cache.Hits);
                events.WithLabels("miss").IncTo(cache.Misses);
                events.WithLabels("store").IncTo(cache.Stores);
                events.WithLabels("error").IncTo(cache.Errors);
                events.WithLabels("skipped_too_large").IncTo(cache.SkippedTooLarge);
                events.WithLabels("eviction").IncTo(cache.Evictions);
            });
        }

        if (guardrails is not null)
        {
            var checks = factory.CreateCounter("gateway_guardrail_checks_total",
                "Guardrail checks by result: passed, blocked, failed_open / failed_closed (the guard failed and the request went on / was refused)",
                ["guardrail", "result"]);
            // The guardrails keep their own counters; they are copied into the series when Prometheus scrapes.
            Registry.AddBeforeCollectCallback(() =>
            {
                foreach (var (name, counters) in guardrails.All)
                {
                    checks.WithLabels(name, "passed").IncTo(counters.Passed);
                    checks.WithLabels(name, "blocked").IncTo(counters.Blocked);
                    checks.WithLabels(name, "failed_open").IncTo(counters.FailedOpen);
                    checks.WithLabels(name, "failed_closed").IncTo(counters.FailedClosed);
                }
            });
        }
    }

    public CollectorRegistry Registry { get; }

    /// <summary>For features that add their own series (cache, keys, guardrails) to the same registry.</summary>
    public IMetricFactory Factory { get; }

    public int Order => ObserverOrder.Metrics;

    public void RequestStarted() => _inFlight.Inc();

    public void RequestEnded() => _inFlight.Dec();

    public void ConfigReloaded(bool succeeded, int version)
    {
        _configReloads.WithLabels(succeeded ? "success" : "failure").Inc();
        if (succeeded)
        {
            _configVersion.Set(version);
        }
    }

    /// <summary>One attempt against a deployment has ended (before any retry or fallback decision).</summary>
    public void AttemptEnded(GatewayRequestContext request, Deployment deployment)
    {
        var requested = request.RequestedModel ?? deployment.ModelGroup;
        var attempt = request.Attempt;
        var seriesKey = new DeploymentSeriesKey(deployment, requested, request.Caller.KeyHash ?? "", request.Caller.KeyAlias ?? "");
        if (!_deploymentSeries.TryGetValue(seriesKey, out var series))
        {
            if (_deploymentSeries.Count >= MaxCachedSeries)
            {
                // Reloads replace Deployment objects; drop the lookups of old ones now and then (the series stay exported).
                _deploymentSeries.Clear();
            }

            series = _deploymentSeries.GetOrAdd(seriesKey, CreateDeploymentSeries);
        }

        series.Total.Inc();
        if (!attempt.Failed)
        {
            series.Success.Inc();
            series.State.Set(0);
            if (!request.Stream && request.Outcome.CompletionTokens is > 0 and var tokens && attempt.HeadersTimestamp != 0)
            {
                series.LatencyPerOutputToken.Observe(_time.GetElapsedTime(attempt.StartTimestamp).TotalSeconds / tokens);
            }

            return;
        }

        // Failures are rarer: their labels are looked up each time.
        var key = series.Key;
        var apiBase = series.ApiBase;
        var status = StatusOf(attempt.Error, attempt.FailureKind);
        var statusText = StatusText(status);
        _deploymentFailure.WithLabels(requested, deployment.ModelGroup, deployment.Id, apiBase, deployment.Provider, key.KeyHash, key.KeyAlias, "", "", statusText,
            ExceptionClass(attempt.FailureKind, status)).Inc();
        series.State.Set(attempt.CooledDown ? 2 : 1);
        if (attempt.CooledDown)
        {
            _deploymentCooledDown.WithLabels(deployment.ModelGroup, deployment.Id, apiBase, deployment.Provider, statusText).Inc();
        }
    }

    public void Retried(string modelGroup) => _retries.WithLabels(modelGroup).Inc();

    /// <summary>The request is finished: the response has been fully written.</summary>
    public void OnCompleted(HttpContext context, GatewayRequestContext request)
    {
        var outcome = request.Outcome;
        var caller = request.Caller;
        if (request.ModelGroup is null && outcome.AnsweredError is null && outcome.BlockedByGuardrail is null)
        {
            // Scrapes, probes, the UI's files and successful admin calls are not proxy requests (LiteLLM does not count
            // them either); refused requests are, whatever their path.
            return;
        }

        var status = context.Response.StatusCode;
        var requested = request.RequestedModel ?? request.ModelGroup ?? "";
        var model = outcome.ModelGroup ?? request.ModelGroup ?? "";
        var tenant = context.Features.Get<RequestTenant>();
        var seriesKey = new SeriesKey(requested, model, caller.KeyHash ?? "", caller.KeyAlias ?? "", tenant?.TeamId ?? "", tenant?.TeamAlias ?? "",
            tenant?.UserId ?? "", _endUserLabel ? tenant?.EndUserId ?? "" : "");
        if (!_series.TryGetValue(seriesKey, out var series))
        {
            series = _series.GetOrAdd(seriesKey, CreateSeries);
        }

        series.StatusCounter(status).Inc();
        var failed = status >= 400 || outcome.FailureKind != UpstreamFailureKind.None;
        if (failed)
        {
            var failureStatus = outcome.AnsweredError?.Status ?? (status >= 400 ? status : StatusOf(outcome.LateError, outcome.FailureKind));
            _failedRequests.WithLabels(series.Key.EndUser, series.Key.KeyHash, series.Key.KeyAlias, requested, series.Key.Team, series.Key.TeamAlias, series.Key.User,
                StatusText(failureStatus), ExceptionClass(outcome.FailureKind, failureStatus)).Inc();
        }

        if (caller.KeyHash is { } hash && outcome.Key is { } keyUsage)
        {
            RecordKey(keyUsage, hash, caller.KeyAlias ?? "", requested);
        }

        if (tenant is { TeamId: { } teamId, TeamMaxBudget: { } teamMax })
        {
            var teamAlias = tenant.TeamAlias ?? "";
            _teamMaxBudget.WithLabels(teamId, teamAlias).Set(teamMax);
            _remainingTeamBudget.WithLabels(teamId, teamAlias).Set(teamMax - (tenant.TeamSpend ?? 0));
        }

        if (outcome.BlockedByGuardrail is { } guardrail)
        {
            _guardrailBlocks.WithLabels(guardrail, requested).Inc();
        }

        if (request.ModelGroup is null)
        {
            // Not a model call (admin, health, or refused before a model group was known).
            return;
        }

        var time = _time;
        var now = time.GetTimestamp();
        series.TotalLatency.Observe(time.GetElapsedTime(request.StartTimestamp, now).TotalSeconds);
        if (outcome.CacheHit)
        {
            series.CacheHits.Inc();
            if (outcome.CompletionTokens is { } cached)
            {
                series.CachedTokens.Inc(cached);
            }
        }
        else if (outcome.CacheKey is not null)
        {
            series.CacheMisses.Inc();
        }

        // The last attempt's timings: the one that answered, when one did.
        var attempt = request.Attempt;
        if (attempt.StartTimestamp != 0 && !outcome.CacheHit)
        {
            series.Overhead.Observe(time.GetElapsedTime(request.StartTimestamp, attempt.StartTimestamp).TotalSeconds);
            if (!failed)
            {
                series.LlmApiLatency.Observe(time.GetElapsedTime(attempt.StartTimestamp, now).TotalSeconds);
                if (request.Stream && attempt.HeadersTimestamp != 0)
                {
                    series.TimeToFirstToken.Observe(time.GetElapsedTime(attempt.StartTimestamp, attempt.HeadersTimestamp).TotalSeconds);
                }
            }
        }

        if (!failed && !outcome.CacheHit && (outcome.PromptTokens is not null || outcome.CompletionTokens is not null))
        {
            var input = outcome.PromptTokens ?? 0;
            var output = outcome.CompletionTokens ?? 0;
            series.InputTokens.Inc(input);
            series.OutputTokens.Inc(output);
            series.TotalTokens.Inc(input + output);
            if (outcome.ResponseCost is { } cost)
            {
                series.Spend.Inc(cost);
            }
        }

        if (outcome.AttemptedFallbacks > 0)
        {
            var fallbackStatus = failed ? StatusText(outcome.AnsweredError?.Status ?? status) : "";
            var fallbackClass = failed ? ExceptionClass(outcome.FailureKind, outcome.AnsweredError?.Status ?? status) : "";
            (failed ? _failedFallbacks : _successfulFallbacks)
                .WithLabels(requested, model, series.Key.KeyHash, series.Key.KeyAlias, series.Key.Team, series.Key.TeamAlias, fallbackStatus, fallbackClass).Inc();
        }
    }

    private void RecordKey(KeyUsageSnapshot usage, string hash, string alias, string requested)
    {
        if (usage.MaxBudget is { } max)
        {
            _keyMaxBudget.WithLabels(hash, alias).Set(max);
            _remainingKeyBudget.WithLabels(hash, alias).Set(max - usage.Spend);
        }

        if (usage.RemainingRequests is { } requests)
        {
            _remainingKeyRequests.WithLabels(hash, alias, requested).Set(requests);
        }

        if (usage.RemainingTokens is { } tokens)
        {
            _remainingKeyTokens.WithLabels(hash, alias, requested).Set(tokens);
        }
    }

    private RequestSeries CreateSeries(SeriesKey key) => new(key, this);

    private DeploymentSeries CreateDeploymentSeries(DeploymentSeriesKey key) => new(key, this);

    private static Histogram Histogram(IMetricFactory factory, string name, string help, string[] labels) =>
        factory.CreateHistogram(name, help, new HistogramConfiguration { LabelNames = labels, Buckets = LatencyBuckets });

    private static int StatusOf(GatewayError? error, UpstreamFailureKind kind) => error?.Status ?? kind switch
    {
        UpstreamFailureKind.Timeout => 408,
        UpstreamFailureKind.RateLimit => 429,
        UpstreamFailureKind.Connection => 502,
        UpstreamFailureKind.ServiceUnavailable => 503,
        UpstreamFailureKind.Authentication => 401,
        UpstreamFailureKind.PermissionDenied => 403,
        UpstreamFailureKind.NotFound => 404,
        UpstreamFailureKind.BadRequest or UpstreamFailureKind.ContextWindowExceeded or UpstreamFailureKind.ContentPolicyViolation => 400,
        _ => 500,
    };

    /// <summary>LiteLLM's exception class names (litellm.exceptions), as its exception_class label shows them.</summary>
    internal static string ExceptionClass(UpstreamFailureKind kind, int status) => kind switch
    {
        UpstreamFailureKind.ContextWindowExceeded => "ContextWindowExceededError",
        UpstreamFailureKind.ContentPolicyViolation => "ContentPolicyViolationError",
        UpstreamFailureKind.Timeout => "Timeout",
        UpstreamFailureKind.Connection => "APIConnectionError",
        _ => status switch
        {
            400 => "BadRequestError",
            401 => "AuthenticationError",
            403 => "PermissionDeniedError",
            404 => "NotFoundError",
            408 => "Timeout",
            413 => "BadRequestError",
            422 => "UnprocessableEntityError",
            429 => "RateLimitError",
            502 => "APIConnectionError",
            503 => "ServiceUnavailableError",
            _ when status >= 500 => "InternalServerError",
            _ => "APIError",
        },
    };

    private static string StatusText(int status) => status switch
    {
        200 => "200",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        408 => "408",
        429 => "429",
        500 => "500",
        502 => "502",
        503 => "503",
        _ => status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    // An api_base may carry credentials in its user-info or query (rare, but possible); the label never does.
    private static string ApiBaseLabel(Deployment deployment)
    {
        if (deployment.ApiBase is not { } apiBase)
        {
            return "";
        }

        if (!apiBase.Contains('@', StringComparison.Ordinal) && !apiBase.Contains('?', StringComparison.Ordinal))
        {
            return apiBase;
        }

        return Uri.TryCreate(apiBase, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Path).Replace(uri.UserInfo + "@", "", StringComparison.Ordinal) : "";
    }

    // The Deployment record is replaced on every reload, so series keyed by it follow the config; old keys are few.
    // Compared by reference: a record's value equality would walk every field on each lookup.
    private readonly struct DeploymentSeriesKey(Deployment deployment, string requested, string keyHash, string keyAlias) : IEquatable<DeploymentSeriesKey>
    {
        public Deployment Deployment { get; } = deployment;

        public string Requested { get; } = requested;

        public string KeyHash { get; } = keyHash;

        public string KeyAlias { get; } = keyAlias;

        public bool Equals(DeploymentSeriesKey other) =>
            ReferenceEquals(Deployment, other.Deployment) && string.Equals(Requested, other.Requested, StringComparison.Ordinal)
            && string.Equals(KeyHash, other.KeyHash, StringComparison.Ordinal) && string.Equals(KeyAlias, other.KeyAlias, StringComparison.Ordinal);

        public override bool Equals(object? obj) => obj is DeploymentSeriesKey other && Equals(other);

        public override int GetHashCode() =>
            HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(Deployment), Requested, KeyHash, KeyAlias);
    }

    /// <summary>Children of the per-attempt deployment metrics for one (deployment, requested group, key).</summary>
    private sealed class DeploymentSeries
    {
        public DeploymentSeries(DeploymentSeriesKey key, GatewayMetrics metrics)
        {
            Key = key;
            var deployment = key.Deployment;
            ApiBase = ApiBaseLabel(deployment);
            Total = metrics._deploymentTotal.WithLabels(key.Requested, deployment.ModelGroup, deployment.Id, ApiBase, deployment.Provider, key.KeyHash, key.KeyAlias, "", "");
            Success = metrics._deploymentSuccess.WithLabels(key.Requested, deployment.ModelGroup, deployment.Id, ApiBase, deployment.Provider, key.KeyHash, key.KeyAlias, "", "");
            State = metrics._deploymentState.WithLabels(deployment.ModelGroup, deployment.Id, ApiBase, deployment.Provider);
            LatencyPerOutputToken = metrics._latencyPerOutputToken.WithLabels(deployment.ModelGroup, deployment.Id, ApiBase, deployment.Provider, key.KeyHash, key.KeyAlias, "", "");
        }

        public DeploymentSeriesKey Key { get; }

        public string ApiBase { get; }

        public Counter.Child Total { get; }

        public Counter.Child Success { get; }

        public Gauge.Child State { get; }

        public Histogram.Child LatencyPerOutputToken { get; }
    }

    private readonly record struct SeriesKey(string Requested, string Model, string KeyHash, string KeyAlias, string Team, string TeamAlias, string User,
        string EndUser);

    /// <summary>
    /// The children of every per-request metric for one (requested group, served group, key) combination, looked up
    /// once per combination instead of once per metric per request.
    /// </summary>
    private sealed class RequestSeries(SeriesKey key, GatewayMetrics metrics)
    {
        private readonly ConcurrentDictionary<int, Counter.Child> _byStatus = new();
        // Children are made on first use, so that a series nobody fed (cache metrics with no cache) is not exposed as 0.
        private Histogram.Child? _totalLatency, _overhead, _llmApiLatency, _timeToFirstToken;
        private Counter.Child? _spend, _totalTokens, _inputTokens, _outputTokens, _cacheHits, _cacheMisses, _cachedTokens;

        public SeriesKey Key { get; } = key;

        public Histogram.Child TotalLatency => _totalLatency ??= metrics._totalLatency.WithLabels(Labels(Key.Model));

        public Histogram.Child Overhead => _overhead ??= metrics._overheadLatency.WithLabels(Labels(Key.Model));

        public Histogram.Child LlmApiLatency =>
            _llmApiLatency ??= metrics._llmApiLatency.WithLabels(Key.Model, Key.KeyHash, Key.KeyAlias, Key.Team, Key.TeamAlias, Key.Requested, Key.EndUser, Key.User);

        public Histogram.Child TimeToFirstToken => _timeToFirstToken ??= metrics._timeToFirstToken.WithLabels(Key.Model, Key.KeyHash, Key.KeyAlias, Key.Team, Key.TeamAlias);

        public Counter.Child Spend => _spend ??= metrics._spend.WithLabels(Labels(Key.Model));

        public Counter.Child TotalTokens => _totalTokens ??= metrics._totalTokens.WithLabels(Labels(Key.Model));

        public Counter.Child InputTokens => _inputTokens ??= metrics._inputTokens.WithLabels(Labels(Key.Model));

        public Counter.Child OutputTokens => _outputTokens ??= metrics._outputTokens.WithLabels(Labels(Key.Model));

        public Counter.Child CacheHits => _cacheHits ??= metrics._cacheHits.WithLabels(Labels(Key.Model));

        public Counter.Child CacheMisses => _cacheMisses ??= metrics._cacheMisses.WithLabels(Labels(Key.Model));

        public Counter.Child CachedTokens => _cachedTokens ??= metrics._cachedTokens.WithLabels(Labels(Key.Model));

        public Counter.Child StatusCounter(int status) =>
            _byStatus.TryGetValue(status, out var child) ? child : _byStatus.GetOrAdd(status, s => metrics._totalRequests.WithLabels(Labels(StatusText(s))));

        // K (end_user, hashed_api_key, api_key_alias, requested_model, team, team_alias, user) + one more label.
        private string[] Labels(string last) => [Key.EndUser, Key.KeyHash, Key.KeyAlias, Key.Requested, Key.Team, Key.TeamAlias, Key.User, last];
    }
}
