using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Proxy.Transforms.Caching;

/// <summary>
/// Entries in Redis under the cache key itself (as LiteLLM stores them). One multiplexer, connected in the background
/// and reconnecting by itself; while it is down, <see cref="IsAvailable"/> is false and nothing waits for it.
/// </summary>
internal sealed partial class RedisResponseCacheStore : IResponseCacheStore
{
    private static readonly TimeSpan AdminTimeout = TimeSpan.FromSeconds(5);

    private readonly CacheOptions _options;
    private readonly ILogger _logger;
    private readonly Task _connecting;
    private readonly CancellationTokenSource _disposed = new();
    private volatile ConnectionMultiplexer? _multiplexer;
    private int _up;

    public RedisResponseCacheStore(CacheOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _connecting = ConnectAsync();
    }

    public bool IsAvailable => _multiplexer is { IsConnected: true };

    public Task Started => _connecting;

    public async ValueTask<ReadOnlyMemory<byte>?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var database = Database();
        var value = await database.StringGetAsync(key).WaitAsync(_options.OperationTimeout, cancellationToken);
        return value.IsNull ? null : (byte[]?)value;
    }

    public void Set(string key, byte[] entry, TimeSpan? ttl)
    {
        // Fire and forget: the answer has been sent; its store must not hold the request (LiteLLM stores asynchronously too).
        Database().StringSet(key, entry, ttl, keepTtl: false, When.Always, CommandFlags.FireAndForget);
    }

    public async Task<long> DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var redisKeys = new RedisKey[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            redisKeys[i] = keys[i];
        }

        return await Database().KeyDeleteAsync(redisKeys).WaitAsync(AdminTimeout, cancellationToken);
    }

    // LiteLLM runs FLUSHALL; a Redis shared with router state or other data would lose it, so only keys shaped like
    // cache keys (64 hex digits, optionally after "namespace:") are removed.
    public async Task<long> FlushAsync(CancellationToken cancellationToken)
    {
        var multiplexer = Connected();
        long removed = 0;
        var batch = new List<RedisKey>(500);
        foreach (var server in multiplexer.GetServers())
        {
            if (server.IsReplica)
            {
                continue;
            }

            await foreach (var key in server.KeysAsync(_options.RedisDatabase, "*", pageSize: 1000).WithCancellation(cancellationToken))
            {
                if (!LooksLikeCacheKey(key.ToString()))
                {
                    continue;
                }

                batch.Add(key);
                if (batch.Count == 500)
                {
                    removed += await Database().KeyDeleteAsync([.. batch]).WaitAsync(AdminTimeout, cancellationToken);
                    batch.Clear();
                }
            }
        }

        if (batch.Count > 0)
        {
            removed += await Database().KeyDeleteAsync([.. batch]).WaitAsync(AdminTimeout, cancellationToken);
        }

        return removed;
    }

    public async Task<IReadOnlyList<KeyValuePair<string, string>>> PingAsync(CancellationToken cancellationToken)
    {
        var database = Database();
        var latency = await database.PingAsync().WaitAsync(AdminTimeout, cancellationToken);
        // As LiteLLM's /cache/ping: prove that a write works too.
        await database.StringSetAsync("litellm-gateway:cache-ping", "test_key", TimeSpan.FromSeconds(60)).WaitAsync(AdminTimeout, cancellationToken);
        var multiplexer = Connected();
        var server = multiplexer.GetServers().FirstOrDefault();
        return
        [
            new("redis_endpoint", _options.RedisEndpoint),
            new("db", _options.RedisDatabase.ToString(CultureInfo.InvariantCulture)),
            new("redis_version", server?.Version.ToString() ?? "unknown"),
            new("ping_ms", latency.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture)),
            new("connected", multiplexer.IsConnected ? "True" : "False"),
        ];
    }

    public void Dispose()
    {
        _disposed.Cancel();
        _multiplexer?.Dispose();
        _disposed.Dispose();
    }

    internal static bool LooksLikeCacheKey(string key)
    {
        if (key.Length < 64)
        {
            return false;
        }

        var hash = key.AsSpan(key.Length - 64);
        foreach (var c in hash)
        {
            if (!char.IsAsciiHexDigitLower(c))
            {
                return false;
            }
        }

        return key.Length == 64 || key[^65] == ':';
    }

    private IDatabase Database() => Connected().GetDatabase(_options.RedisDatabase);

    private ConnectionMultiplexer Connected() =>
        _multiplexer is { } multiplexer ? multiplexer : throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is not connected yet");

    private async Task ConnectAsync()
    {
        // Never fail or block start-up for Redis: connect in the background and keep retrying; requests run uncached meanwhile.
        var configuration = CacheRedisConfiguration.For(_options, "litellm-gateway-cache");
        try
        {
            var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration);
            if (_disposed.IsCancellationRequested)
            {
                multiplexer.Dispose();
                return;
            }

            // Reconnect attempts fail again and again while Redis is down: log the transitions only.
            multiplexer.ConnectionFailed += (_, e) =>
            {
                if (e.ConnectionType == ConnectionType.Interactive && Interlocked.Exchange(ref _up, 0) == 1)
                {
                    Log.ConnectionFailed(_logger, _options.RedisEndpoint, e.FailureType.ToString());
                }
            };
            multiplexer.ConnectionRestored += (_, e) =>
            {
                if (e.ConnectionType == ConnectionType.Interactive && Interlocked.Exchange(ref _up, 1) == 0)
                {
                    Log.ConnectionRestored(_logger, _options.RedisEndpoint);
                }
            };
            _multiplexer = multiplexer;
            if (multiplexer.IsConnected)
            {
                Interlocked.Exchange(ref _up, 1);
            }
            else
            {
                Log.NotConnectedYet(_logger, _options.RedisEndpoint);
            }
        }
        catch (Exception ex) when (ex is RedisException or ArgumentException or InvalidOperationException)
        {
            Log.ConnectFailed(_logger, _options.RedisEndpoint, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2301, LogLevel.Warning, "Response cache: Redis at {Endpoint} is not reachable yet; requests run uncached until it is")]
        public static partial void NotConnectedYet(ILogger logger, string endpoint);

        [LoggerMessage(2302, LogLevel.Warning, "Response cache: lost the connection to Redis at {Endpoint} ({Failure}); requests run uncached until it is back")]
        public static partial void ConnectionFailed(ILogger logger, string endpoint, string failure);

        [LoggerMessage(2303, LogLevel.Information, "Response cache: connection to Redis at {Endpoint} restored")]
        public static partial void ConnectionRestored(ILogger logger, string endpoint);

        [LoggerMessage(2304, LogLevel.Error, "Response cache: cannot use Redis at {Endpoint}: {Reason}; the cache stays off")]
        public static partial void ConnectFailed(ILogger logger, string endpoint, string reason);
    }
}
