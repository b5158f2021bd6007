namespace Proxy.Host.Config;

/// <summary><c>litellm_settings</c>.</summary>
internal sealed record LitellmSettings
{
    /// <summary>model_group_settings.forward_client_headers_to_llm_api: groups (or "prefix/*" patterns) whose upstreams get the client's x-* headers.</summary>
    public IReadOnlyList<string> ForwardClientHeadersGroups { get; init; } = [];

    public bool DropParams { get; init; }

    public int? NumRetries { get; init; }

    /// <summary>Seconds; LiteLLM's <c>REQUEST_TIMEOUT</c> default.</summary>
    public double RequestTimeout { get; init; } = 6000;

    public IReadOnlyDictionary<string, IReadOnlyList<string>> Fallbacks { get; init; } = EmptyMap.StringLists;

    public IReadOnlyList<string> DefaultFallbacks { get; init; } = [];

    public IReadOnlyDictionary<string, IReadOnlyList<string>> ContextWindowFallbacks { get; init; } = EmptyMap.StringLists;

    public IReadOnlyDictionary<string, IReadOnlyList<string>> ContentPolicyFallbacks { get; init; } = EmptyMap.StringLists;

    public int? AllowedFails { get; init; }

    public double? CooldownTime { get; init; }

    public bool SetVerbose { get; init; }

    public bool JsonLogs { get; init; }

    /// <summary>LiteLLM's <c>require_auth_for_metrics_endpoint</c>: /metrics answers only the master key (LiteLLM: any key).</summary>
    public bool RequireAuthForMetricsEndpoint { get; init; }

    public bool Cache { get; init; }

    public CacheParams CacheParams { get; init; } = new();

    public IReadOnlyList<string> SuccessCallback { get; init; } = [];

    public IReadOnlyList<string> FailureCallback { get; init; } = [];

    public IReadOnlyList<string> Callbacks { get; init; } = [];

    public double? MaxBudget { get; init; }

    public string? BudgetDuration { get; init; }

    public string? LlamaguardModelName { get; init; }

    public double? MaxEndUserBudget { get; init; }

    public string? MaxEndUserBudgetId { get; init; }

    public bool DisableEndUserCostTracking { get; init; }

    public double? MaxInternalUserBudget { get; init; }

    public string? InternalUserBudgetDuration { get; init; }

    /// <summary>Customers (end users) as the end_user metric label; off by default to keep label cardinality bounded.</summary>
    public bool PrometheusEndUserLabel { get; init; }
}
