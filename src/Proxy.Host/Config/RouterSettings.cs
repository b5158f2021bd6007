using Proxy.Abstractions;

namespace Proxy.Host.Config;

/// <summary><c>router_settings</c>; same-named keys here win over <c>litellm_settings</c>.</summary>
internal sealed record RouterSettings
{
    public string RoutingStrategy { get; init; } = "simple-shuffle";

    public int? NumRetries { get; init; }

    public double RetryAfter { get; init; }

    public double? Timeout { get; init; }

    public double? StreamTimeout { get; init; }

    public int? AllowedFails { get; init; }

    public double? CooldownTime { get; init; }

    public bool DisableCooldowns { get; init; }

    public AllowedFailsPolicy? AllowedFailsPolicy { get; init; }

    public RetryPolicy? RetryPolicy { get; init; }

    /// <summary>Model group → fallback groups, in file order.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Fallbacks { get; init; } = EmptyMap.StringLists;

    public IReadOnlyList<string> DefaultFallbacks { get; init; } = [];

    public IReadOnlyDictionary<string, IReadOnlyList<string>> ContextWindowFallbacks { get; init; } = EmptyMap.StringLists;

    public IReadOnlyDictionary<string, IReadOnlyList<string>> ContentPolicyFallbacks { get; init; } = EmptyMap.StringLists;

    public int? MaxFallbacks { get; init; }

    public bool EnablePreCallChecks { get; init; }

    public IReadOnlyList<string> OptionalPreCallChecks { get; init; } = [];

    /// <summary>Idle seconds before a session_affinity / deployment_affinity pin is forgotten (LiteLLM's default 3600).</summary>
    public int? DeploymentAffinityTtlSeconds { get; init; }

    /// <summary>Model group → the affinity checks for that group, replacing optional_pre_call_checks there.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> ModelGroupAffinityConfig { get; init; } = EmptyMap.StringLists;

    /// <summary>Gateway extension: seconds between scrapes of each hosted_vllm deployment's /metrics; null = off.</summary>
    public double? VllmMetricsInterval { get; init; }

    public string? RedisHost { get; init; }

    public int? RedisPort { get; init; }

    public Secret? RedisPassword { get; init; }

    public Secret? RedisUrl { get; init; }

    public int? RedisDb { get; init; }

    public RoutingStrategyArgs RoutingStrategyArgs { get; init; } = new();

    public IReadOnlyDictionary<string, ModelGroupAlias> ModelGroupAlias { get; init; } = EmptyMap.Aliases;

    public double? HealthCheckInterval { get; init; }

    public bool EnableTagFiltering { get; init; }

    /// <summary>tag_filtering_match_any: a deployment matches when it has any of the request's tags (true, LiteLLM's default) or all of them.</summary>
    public bool TagFilteringMatchAny { get; init; } = true;
}
