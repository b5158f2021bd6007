using Proxy.Abstractions;

namespace Proxy.Host.Config.Yaml;

/// <summary>Binds <c>general_settings</c>.</summary>
internal static class GeneralSettingsBinder
{
    public static GeneralSettings Bind(YamlSection root)
    {
        var s = root.Section("general_settings");
        var reader = s.Reader;
        var defaults = new GeneralSettings();

        // LiteLLM falls back to these variables when the keys are absent
        var masterKey = s.Secret("master_key") ?? FromEnv(reader, "LITELLM_MASTER_KEY");
        if (masterKey is { } key && !key.Value.StartsWith("sk-", StringComparison.Ordinal))
        {
            reader.Warning(s.LineOf("master_key"), s.Child("master_key"), "should start with 'sk-' (LiteLLM requires it to generate virtual keys)");
        }

        var settings = new GeneralSettings
        {
            MasterKey = masterKey,
            DatabaseUrl = s.Secret("database_url") ?? FromEnv(reader, "DATABASE_URL"),
            StoreModelInDb = s.Bool("store_model_in_db") ?? false,
            BackgroundHealthChecks = s.Bool("background_health_checks") ?? false,
            HealthCheckInterval = s.Double("health_check_interval", min: 0) ?? defaults.HealthCheckInterval,
            MaxParallelRequests = s.Int("max_parallel_requests", min: 1),
            GlobalMaxParallelRequests = s.Int("global_max_parallel_requests", min: 1),
            DisableSpendLogs = s.Bool("disable_spend_logs") ?? false,
            DisableMockTestingFlags = s.Bool("disable_mock_testing_flags") ?? false,
            MaximumSpendLogsRetentionPeriod = s.Duration("maximum_spend_logs_retention_period"),
            MaximumSpendLogsRetentionInterval = s.Duration("maximum_spend_logs_retention_interval"),
            ResponsesStoreTtl = s.Duration("responses_store_ttl"),
            AllowClientMockResponse = s.Bool("allow_client_mock_response") ?? false,
            ForwardClientHeadersToLlmApi = s.Bool("forward_client_headers_to_llm_api") ?? false,
            EnforceFallbackModelAccess = s.Bool("enforce_fallback_model_access") ?? defaults.EnforceFallbackModelAccess,
            LitellmKeyHeaderName = s.String("litellm_key_header_name"),
            ProxyBatchWriteAt = s.Double("proxy_batch_write_at", min: 0) ?? defaults.ProxyBatchWriteAt,
            UserApiKeyCacheTtl = s.Double("user_api_key_cache_ttl", min: 0) ?? defaults.UserApiKeyCacheTtl,
            MaxRequestSizeMb = s.Double("max_request_size_mb", min: 0) ?? defaults.MaxRequestSizeMb,
            AllowedRoutes = s.StringList("allowed_routes") ?? [],
            PublicRoutes = s.StringList("public_routes") ?? [],
            UiAccessMode = s.String("ui_access_mode"),
            DatabaseConnectionPoolLimit = s.Int("database_connection_pool_limit", min: 1) ?? defaults.DatabaseConnectionPoolLimit,
            DatabaseConnectionTimeout = s.Double("database_connection_timeout", min: 0) ?? defaults.DatabaseConnectionTimeout,
            Alerting = s.StringList("alerting", allowScalar: true) ?? [],
            PassThroughEndpoints = PassThroughEndpointsBinder.Bind(s),
            EnforceUserParam = s.Bool("enforce_user_param") ?? false,
            AlertingWebhookUrl = s.Secret("alerting_webhook_url") ?? FromEnv(reader, "WEBHOOK_URL"),
            StoredModelEnvAllowlist = s.StringList("stored_model_env_allowlist", allowScalar: true) ?? [],
            StoredModelAllowPrivateApiBase = s.Bool("stored_model_allow_private_api_base") ?? false,
        };
        s.ReportUnknownKeys();
        return settings;
    }

    private static Secret? FromEnv(ConfigReader reader, string name)
    {
        var value = reader.GetEnv(name);
        return string.IsNullOrEmpty(value) ? null : new Secret(value);
    }
}
