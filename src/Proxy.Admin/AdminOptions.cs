namespace Proxy.Admin;

/// <summary>What the host tells the admin feature at start-up (from general_settings and the environment).</summary>
public sealed record AdminOptions
{
    /// <summary>DATABASE_URL or general_settings.database_url: a postgresql:// URL or an Npgsql connection string; null = embedded SQLite.</summary>
    public string? DatabaseUrl { get; init; }

    /// <summary>The embedded store's file (default: gateway.db next to the config file).</summary>
    public required string SqlitePath { get; init; }

    /// <summary>STORE_MODEL_IN_DB / general_settings.store_model_in_db.</summary>
    public bool StoreModelInDb { get; init; }

    public bool DisableSpendLogs { get; init; }

    /// <summary>general_settings.maximum_spend_logs_retention_period: spend-log rows older than this are deleted; null = kept.</summary>
    public TimeSpan? SpendLogRetention { get; init; }

    /// <summary>general_settings.maximum_spend_logs_retention_interval: how often retention runs (LiteLLM's default: daily).</summary>
    public TimeSpan SpendLogRetentionInterval { get; init; } = TimeSpan.FromDays(1);

    /// <summary>general_settings.responses_store_ttl: how long the gateway keeps a Responses API response it bridged to chat.</summary>
    public TimeSpan ResponsesStoreTtl { get; init; } = TimeSpan.FromDays(30);

    /// <summary>Redis where replicas share key rate-limit counts; null = limits per process.</summary>
    public Budgets.SharedLimitsOptions? SharedLimits { get; init; }

    /// <summary>True when <see cref="SharedLimits"/> is router_settings.redis_* (which also carries cooldowns, as in LiteLLM).</summary>
    public bool SharedLimitsFromRouter { get; init; }

    /// <summary>
    /// general_settings.user_api_key_cache_ttl: how often cached keys are re-read from the store (settings changed and
    /// spend written by other replicas).
    /// </summary>
    public TimeSpan KeyRefreshInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>general_settings.proxy_batch_write_at: longest wait before buffered spend is written.</summary>
    public TimeSpan BatchWriteInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Spend-log rows kept in memory while the database is away; beyond this new rows are dropped (and counted).</summary>
    public int SpendBufferCapacity { get; init; } = 100_000;

    /// <summary>How long an unknown key's "not found" answer is remembered, so that a flood of bad keys costs no queries.</summary>
    public TimeSpan NegativeCacheTime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Connect and command timeouts: a database that is down must fail a call fast, not hang it.</summary>
    public TimeSpan DatabaseTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>litellm_settings.max_budget: the proxy-wide budget (USD) over every request; null = none.</summary>
    public double? ProxyMaxBudget { get; init; }

    /// <summary>litellm_settings.budget_duration: the proxy-wide budget's window.</summary>
    public string? ProxyBudgetDuration { get; init; }

    /// <summary>litellm_settings.max_end_user_budget: the budget of customers that have no budget_id.</summary>
    public double? MaxEndUserBudget { get; init; }

    /// <summary>litellm_settings.max_end_user_budget_id: a budget tier for customers that have none.</summary>
    public string? MaxEndUserBudgetId { get; init; }

    /// <summary>general_settings.enforce_user_param: LLM requests must name their customer.</summary>
    public bool EnforceUserParam { get; init; }

    /// <summary>Customers' spend is tracked (LiteLLM: unless litellm_settings.disable_end_user_cost_tracking).</summary>
    public bool TrackEndUsers { get; init; } = true;

    /// <summary>litellm_settings.max_internal_user_budget / internal_user_budget_duration: defaults for /user/new.</summary>
    public double? MaxInternalUserBudget { get; init; }

    public string? InternalUserBudgetDuration { get; init; }

    /// <summary>general_settings.alerting_webhook_url: soft_budget alerts are POSTed here; null = log and metric only.</summary>
    public string? AlertingWebhookUrl { get; init; }

    public bool UsesPostgres => !string.IsNullOrWhiteSpace(DatabaseUrl);

    /// <summary>LITELLM_SALT_KEY: the key that encrypts stored models' api_key (as LiteLLM); without it the master key's.</summary>
    public Secret? SaltKey { get; init; }

    /// <summary>The master key at start-up, from which stored secrets' key is derived when there is no salt key.</summary>
    public Secret? MasterKey { get; init; }
}
