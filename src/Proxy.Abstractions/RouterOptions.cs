namespace Proxy.Abstractions;

/// <summary>
/// The router's settings resolved from router_settings (which wins) and litellm_settings, with LiteLLM's defaults.
/// </summary>
public sealed record RouterOptions
{
    public static RouterOptions Default { get; } = new();

    public string RoutingStrategy { get; init; } = "simple-shuffle";

    /// <summary>Retries within a model group (LiteLLM falls back to the OpenAI SDK's default of 2).</summary>
    public int NumRetries { get; init; } = 2;

    /// <summary>Retries per failure class (retry_policy); a class not listed uses <see cref="NumRetries"/>.</summary>
    public IReadOnlyDictionary<UpstreamFailureKind, int> RetryPolicy { get; init; } = new Dictionary<UpstreamFailureKind, int>();

    /// <summary>Minimum seconds before a retry (router_settings.retry_after).</summary>
    public double RetryAfterSeconds { get; init; }

    /// <summary>allowed_fails: null means LiteLLM's default mode (failure rate per minute), a value the counting mode.</summary>
    public int? AllowedFails { get; init; }

    public IReadOnlyDictionary<UpstreamFailureKind, int> AllowedFailsPolicy { get; init; } = new Dictionary<UpstreamFailureKind, int>();

    public TimeSpan CooldownTime { get; init; } = TimeSpan.FromSeconds(5);

    public bool DisableCooldowns { get; init; }

    public IReadOnlyDictionary<string, IReadOnlyList<string>> Fallbacks { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    public IReadOnlyList<string> DefaultFallbacks { get; init; } = [];

    public IReadOnlyDictionary<string, IReadOnlyList<string>>? ContextWindowFallbacks { get; init; }

    public IReadOnlyDictionary<string, IReadOnlyList<string>>? ContentPolicyFallbacks { get; init; }

    public int MaxFallbacks { get; init; } = 5;

    public bool EnablePreCallChecks { get; init; }

    /// <summary>Honour LiteLLM's mock_testing_* request flags (off in production with general_settings.disable_mock_testing_flags).</summary>
    public bool MockTestingFlags { get; init; } = true;

    public RoutingStrategyOptions Strategy { get; init; } = RoutingStrategyOptions.Default;

    /// <summary>session_affinity / deployment_affinity (optional_pre_call_checks) and their TTL.</summary>
    public AffinityOptions Affinity { get; init; } = AffinityOptions.Default;

    /// <summary>router_settings.vllm_metrics_interval (a gateway extension): how often vLLM deployments' /metrics are scraped; null = never.</summary>
    public TimeSpan? VllmMetricsInterval { get; init; }
}
