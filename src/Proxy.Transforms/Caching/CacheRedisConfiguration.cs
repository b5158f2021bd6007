using StackExchange.Redis;

namespace Proxy.Transforms.Caching;

/// <summary>The cache's Redis connection recipe, shared by the exact and the semantic cache.</summary>
internal static class CacheRedisConfiguration
{
    /// <summary>
    /// Never fails or blocks start-up: connects in the background and keeps retrying, waits at most
    /// <see cref="CacheOptions.OperationTimeout"/> per command, and fails commands at once while disconnected (requests
    /// then run uncached) instead of queueing them behind a reconnect.
    /// </summary>
    public static ConfigurationOptions For(CacheOptions options, string clientName)
    {
        var timeout = Math.Max(50, (int)options.OperationTimeout.TotalMilliseconds);
        return new ConfigurationOptions
        {
            EndPoints = { { options.RedisHost, options.RedisPort } },
            User = options.RedisUser,
            Password = options.RedisPassword.IsEmpty ? null : options.RedisPassword.Value,
            Ssl = options.RedisSsl,
            DefaultDatabase = options.RedisDatabase,
            AbortOnConnectFail = false,
            ConnectTimeout = 2000,
            SyncTimeout = timeout,
            AsyncTimeout = timeout,
            ReconnectRetryPolicy = new LinearRetry(500),
            BacklogPolicy = BacklogPolicy.FailFast,
            ClientName = clientName,
        };
    }
}
