using Proxy.Abstractions;

namespace Proxy.Host.Config;

/// <summary><c>general_settings</c>.</summary>
internal sealed record GeneralSettings
{
    public Secret? MasterKey { get; init; }

    public Secret? DatabaseUrl { get; init; }

    public bool StoreModelInDb { get; init; }

    public bool BackgroundHealthChecks { get; init; }

    public double HealthCheckInterval { get; init; } = 300;

    public int? MaxParallelRequests { get; init; }

    public int? GlobalMaxParallelRequests { get; init; }

    public bool DisableSpendLogs { get; init; }

    /// <summary>Gateway extension: ignore LiteLLM's mock_testing_* request flags (for production).</summary>
    public bool DisableMockTestingFlags { get; init; }

    /// <summary>maximum_spend_logs_retention_period (LiteLLM's "7d", "24h", "60m", "3600s"): spend logs older than this are deleted.</summary>
    public TimeSpan? MaximumSpendLogsRetentionPeriod { get; init; }

    /// <summary>maximum_spend_logs_retention_interval: how often retention runs; null = daily.</summary>
    public TimeSpan? MaximumSpendLogsRetentionInterval { get; init; }

    /// <summary>
    /// responses_store_ttl (a gateway extension, durations as LiteLLM's): how long the gateway keeps the Responses API
    /// responses it bridged to chat, for previous_response_id and GET; null = 30 days.
    /// </summary>
    public TimeSpan? ResponsesStoreTtl { get; init; }

    /// <summary>
    /// Honour mock_response and mock_testing_* from every key, not only the master key (a gateway extension; LiteLLM
    /// honours them for any caller). Off by default: a tenant's mock must not touch what other tenants get.
    /// </summary>
    public bool AllowClientMockResponse { get; init; }

    /// <summary>Fallbacks skip model groups the caller's key may not use (LiteLLM's flag, off there by default, on here).</summary>
    public bool EnforceFallbackModelAccess { get; init; } = true;

    /// <summary>forward_client_headers_to_llm_api: every model group's upstreams get the client's x-* headers (LiteLLM's allow list).</summary>
    public bool ForwardClientHeadersToLlmApi { get; init; }

    public string? LitellmKeyHeaderName { get; init; }

    public double ProxyBatchWriteAt { get; init; } = 10;

    /// <summary>Seconds between re-reads of the cached virtual keys (LiteLLM: the key cache's TTL, 60 s there).</summary>
    public double UserApiKeyCacheTtl { get; init; } = 30;

    /// <summary>0 means "use the gateway default".</summary>
    public double MaxRequestSizeMb { get; init; }

    public IReadOnlyList<string> AllowedRoutes { get; init; } = [];

    public IReadOnlyList<string> PublicRoutes { get; init; } = [];

    public string? UiAccessMode { get; init; }

    public int DatabaseConnectionPoolLimit { get; init; } = 10;

    public double DatabaseConnectionTimeout { get; init; } = 60;

    public IReadOnlyList<string> Alerting { get; init; } = [];

    /// <summary>pass_through_endpoints: generic routes forwarded to fixed targets, outside the model pipeline.</summary>
    public IReadOnlyList<PassThroughEndpointConfig> PassThroughEndpoints { get; init; } = [];

    public bool EnforceUserParam { get; init; }

    /// <summary>Where soft_budget alerts are POSTed (may hold a token: never logged).</summary>
    public Secret? AlertingWebhookUrl { get; init; }

    /// <summary>
    /// Gateway extension: the only environment variables a model stored through the admin API may name, and only in
    /// its litellm_params.api_key (as <c>os.environ/NAME</c>). Empty: stored models resolve no environment variable.
    /// </summary>
    public IReadOnlyList<string> StoredModelEnvAllowlist { get; init; } = [];

    /// <summary>Gateway extension: let stored models' api_base name loopback, private, link-local and metadata addresses.</summary>
    public bool StoredModelAllowPrivateApiBase { get; init; }
}
