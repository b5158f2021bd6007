using System.Collections.Frozen;

namespace Proxy.Host.Config.Yaml;

/// <summary>Binds <c>litellm_settings</c>.</summary>
internal static class LitellmSettingsBinder
{
    /// <summary>LiteLLM's <c>LiteLLMCacheType</c> values.</summary>
    public static readonly FrozenSet<string> CacheTypes = FrozenSet.Create(
        StringComparer.Ordinal,
        "local", "redis", "redis-semantic", "qdrant-semantic", "valkey-semantic", "s3", "gcs", "disk", "azure-blob");

    public static readonly FrozenSet<string> CacheModes = FrozenSet.Create(StringComparer.Ordinal, "default_on", "default_off");

    public static readonly FrozenSet<string> CacheScopes = FrozenSet.Create(StringComparer.Ordinal, "global", "key", "team");

    public static LitellmSettings Bind(YamlSection root)
    {
        var s = root.Section("litellm_settings");
        var defaults = new LitellmSettings();
        var settings = new LitellmSettings
        {
            DropParams = s.Bool("drop_params") ?? false,
            NumRetries = s.Int("num_retries", min: 0),
            RequestTimeout = s.Double("request_timeout", min: 0) ?? defaults.RequestTimeout,
            Fallbacks = s.GroupMap("fallbacks") ?? defaults.Fallbacks,
            DefaultFallbacks = s.StringList("default_fallbacks", allowScalar: true) ?? [],
            ContextWindowFallbacks = s.GroupMap("context_window_fallbacks") ?? defaults.ContextWindowFallbacks,
            ContentPolicyFallbacks = s.GroupMap("content_policy_fallbacks") ?? defaults.ContentPolicyFallbacks,
            AllowedFails = s.Int("allowed_fails", min: 0),
            CooldownTime = s.Double("cooldown_time", min: 0),
            SetVerbose = s.Bool("set_verbose") ?? false,
            JsonLogs = s.Bool("json_logs") ?? false,
            RequireAuthForMetricsEndpoint = s.Bool("require_auth_for_metrics_endpoint") ?? false,
            Cache = s.Bool("cache") ?? false,
            CacheParams = BindCacheParams(s.Section("cache_params")),
            SuccessCallback = s.StringList("success_callback", allowScalar: true) ?? [],
            FailureCallback = s.StringList("failure_callback", allowScalar: true) ?? [],
            Callbacks = s.StringList("callbacks", allowScalar: true) ?? [],
            MaxBudget = s.Double("max_budget", min: 0),
            BudgetDuration = s.String("budget_duration"),
            LlamaguardModelName = s.String("llamaguard_model_name"),
            MaxEndUserBudget = s.Double("max_end_user_budget", min: 0),
            MaxEndUserBudgetId = s.String("max_end_user_budget_id"),
            DisableEndUserCostTracking = s.Bool("disable_end_user_cost_tracking") ?? false,
            MaxInternalUserBudget = s.Double("max_internal_user_budget", min: 0),
            InternalUserBudgetDuration = s.String("internal_user_budget_duration"),
            PrometheusEndUserLabel = s.Bool("prometheus_end_user_label") ?? false,

            ForwardClientHeadersGroups = BindModelGroupSettings(s.Section("model_group_settings")),
        };
        s.ReportUnknownKeys();
        return settings;
    }

    // model_group_settings.forward_client_headers_to_llm_api: model group names or "prefix/*" patterns.
    private static IReadOnlyList<string> BindModelGroupSettings(YamlSection s)
    {
        var groups = s.StringList("forward_client_headers_to_llm_api") ?? [];
        s.ReportUnknownKeys();
        return groups;
    }

    private static CacheParams BindCacheParams(YamlSection s)
    {
        var defaults = new CacheParams();
        var cache = new CacheParams
        {
            Type = OneOf(s, "type", CacheTypes) ?? defaults.Type,
            Host = s.String("host"),
            Port = s.Int("port", min: 1),
            Password = s.Secret("password"),
            RedisUrl = s.Secret("redis_url"),
            Namespace = s.String("namespace"),
            Scope = OneOf(s, "scope", CacheScopes) ?? defaults.Scope,
            Ttl = MaxTtl(s, "ttl"),
            SupportedCallTypes = s.StringList("supported_call_types"),
            Mode = OneOf(s, "mode", CacheModes) ?? defaults.Mode,
            MaxConnections = s.Int("max_connections", min: 1),
            SimilarityThreshold = s.Double("similarity_threshold", min: 0),
            DefaultInMemoryTtl = MaxTtl(s, "default_in_memory_ttl"),
            DefaultInRedisTtl = MaxTtl(s, "default_in_redis_ttl"),
            Db = s.Int("db", min: 0),
            SocketTimeout = s.Double("socket_timeout", min: 0.001),
            MaxMemoryKb = s.Int("max_memory_kb", min: 1),
            MaxItemKb = s.Int("max_item_kb", min: 1),
        };
        s.ReportUnknownKeys();
        return cache;
    }

    private static double? MaxTtl(YamlSection s, string key)
    {
        var value = s.Double(key, min: 0);
        if (value > Transforms.Caching.CacheOptions.MaxTtlSeconds)
        {
            s.Reader.Error(s.LineOf(key), s.Child(key), $"must be at most {Transforms.Caching.CacheOptions.MaxTtlSeconds} seconds (ten years)");
            return null;
        }

        return value;
    }

    private static string? OneOf(YamlSection s, string key, FrozenSet<string> valid)
    {
        var value = s.String(key);
        if (value is null || valid.Contains(value))
        {
            return value;
        }

        s.Reader.Error(s.LineOf(key), s.Child(key), $"unknown value \"{value}\"; valid values: {string.Join(", ", valid.Order(StringComparer.Ordinal))}");
        return null;
    }
}
