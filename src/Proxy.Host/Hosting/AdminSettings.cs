using Proxy.Abstractions;
using Proxy.Admin;
using Proxy.Admin.Budgets;
using Proxy.Host.Caching;
using Proxy.Transforms.Caching;
using Proxy.Host.Config;

namespace Proxy.Host.Hosting;

/// <summary>The admin feature's start-up options from general_settings and the environment (LiteLLM's variables).</summary>
internal static class AdminSettings
{
    public const string EmbeddedDatabaseFile = "gateway.db";

    public static AdminOptions From(GatewayConfig config, string? configPath, Func<string, string?> getEnv)
    {
        var general = config.GeneralSettings;
        var folder = configPath is null ? Directory.GetCurrentDirectory() : Path.GetDirectoryName(configPath)!;
        var storeModels = general.StoreModelInDb || string.Equals(getEnv("STORE_MODEL_IN_DB"), "True", StringComparison.OrdinalIgnoreCase);
        var url = general.DatabaseUrl is { IsEmpty: false } secret ? secret.Value.Trim() : null;
        var sqlitePath = Path.Combine(folder, EmbeddedDatabaseFile);
        // A gateway extension: "sqlite:/path/to/file.db" puts the embedded store elsewhere (e.g. off a read-only config mount).
        if (url is not null && url.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = url["sqlite:".Length..].TrimStart('/');
            sqlitePath = Path.Combine(folder, url["sqlite:".Length..].StartsWith('/') ? "/" + path : path);
            url = null;
        }

        return new AdminOptions
        {
            DatabaseUrl = url,
            SqlitePath = sqlitePath,
            StoreModelInDb = storeModels,
            DisableSpendLogs = general.DisableSpendLogs,
            SpendLogRetention = general.MaximumSpendLogsRetentionPeriod,
            SpendLogRetentionInterval = general.MaximumSpendLogsRetentionInterval ?? TimeSpan.FromDays(1),
            ResponsesStoreTtl = general.ResponsesStoreTtl is { } ttl && ttl > TimeSpan.Zero ? ttl : TimeSpan.FromDays(30),
            // LiteLLM writes every 10 s by default; never spin faster than every 50 ms.
            BatchWriteInterval = TimeSpan.FromSeconds(Math.Max(0.05, general.ProxyBatchWriteAt)),
            KeyRefreshInterval = TimeSpan.FromSeconds(Math.Max(0.1, general.UserApiKeyCacheTtl)),
            SharedLimits = SharedLimits(config, getEnv),
            ProxyMaxBudget = config.LitellmSettings.MaxBudget is > 0 and var max ? max : null,
            ProxyBudgetDuration = config.LitellmSettings.BudgetDuration,
            MaxEndUserBudget = config.LitellmSettings.MaxEndUserBudget,
            MaxEndUserBudgetId = config.LitellmSettings.MaxEndUserBudgetId,
            TrackEndUsers = !config.LitellmSettings.DisableEndUserCostTracking,
            MaxInternalUserBudget = config.LitellmSettings.MaxInternalUserBudget,
            InternalUserBudgetDuration = config.LitellmSettings.InternalUserBudgetDuration,
            EnforceUserParam = general.EnforceUserParam,
            AlertingWebhookUrl = general.AlertingWebhookUrl is { IsEmpty: false } hook ? hook.Value : null,
            SaltKey = getEnv("LITELLM_SALT_KEY") is { Length: > 0 } salt ? new Secret(salt) : null,
            MasterKey = getEnv("LITELLM_MASTER_KEY") is { Length: > 0 } envKey ? new Secret(envKey) : general.MasterKey,
            SharedLimitsFromRouter = !string.IsNullOrWhiteSpace(config.RouterSettings.RedisHost) || config.RouterSettings.RedisUrl is { IsEmpty: false },
        };
    }

    /// <summary>
    /// Replicas share key rate-limit counts through router_settings.redis_* (LiteLLM's Redis for state shared across
    /// instances) or, without it, the response cache's Redis.
    /// </summary>
    private static SharedLimitsOptions? SharedLimits(GatewayConfig config, Func<string, string?> getEnv)
    {
        var router = config.RouterSettings;
        if (!string.IsNullOrWhiteSpace(router.RedisHost))
        {
            return new SharedLimitsOptions
            {
                Host = router.RedisHost,
                Port = router.RedisPort ?? 6379,
                Password = router.RedisPassword ?? default,
                Database = router.RedisDb ?? 0,
            };
        }

        if (router.RedisUrl is { IsEmpty: false } url && CacheOptionsFactory.TryParseRedisUrl(url.Value, out var address))
        {
            return new SharedLimitsOptions
            {
                Host = address.Host,
                Port = address.Port,
                User = address.User,
                Password = address.Password,
                Ssl = address.Ssl,
                Database = address.Database ?? router.RedisDb ?? 0,
            };
        }

        if (CacheOptionsFactory.Build(config.LitellmSettings, getEnv, out _) is { Backend: CacheBackend.Redis } cache)
        {
            return new SharedLimitsOptions
            {
                Host = cache.RedisHost,
                Port = cache.RedisPort,
                User = cache.RedisUser,
                Password = cache.RedisPassword,
                Ssl = cache.RedisSsl,
                Database = cache.RedisDatabase,
            };
        }

        return null;
    }
}
