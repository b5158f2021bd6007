using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Proxy.Transforms.Caching;

/// <summary>
/// The response cache in force: follows the config (a reload that changes the backend or its address builds a new
/// store; other changes keep the stored answers), and turns every backend failure into "uncached" with one warning
/// per interval, so that a Redis outage never becomes a client error.
/// </summary>
public sealed partial class ResponseCache(ICacheOptionsSource source, CacheStats stats, TimeProvider time, ILogger<ResponseCache> logger) : IDisposable
{
    private static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(30);

    private readonly Lock _swapGate = new();
    private volatile ActiveCache? _active;
    private long _lastWarning = long.MinValue;

    public CacheStats Stats => stats;

    internal TimeProvider Time => time;

    /// <summary>The cache for this request, or null when caching is off.</summary>
    internal ActiveCache? Current
    {
        get
        {
            var options = source.Current;
            var active = _active;
            if (ReferenceEquals(active?.Options, options))
            {
                return active;
            }

            return Swap(options);
        }
    }

    /// <summary>Cache type, availability and counters for /health/readiness.</summary>
    public (string? Type, bool Available) Status
    {
        get
        {
            var active = Current;
            return active is null ? (null, false) : (active.Options.Backend == CacheBackend.Redis ? "redis" : "local", active.Store.IsAvailable);
        }
    }

    internal async ValueTask<ReadOnlyMemory<byte>?> TryGetAsync(ActiveCache active, string key, CancellationToken cancellationToken)
    {
        if (!active.Store.IsAvailable)
        {
            Unavailable("not connected");
            return null;
        }

        try
        {
            return await active.Store.GetAsync(key, cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            Unavailable(ex is TimeoutException ? $"no answer within {active.Options.OperationTimeout.TotalMilliseconds} ms" : ex.Message);
            return null;
        }
    }

    internal void Store(ActiveCache active, string key, ReadOnlySpan<byte> response, TimeSpan? ttl)
    {
        if (response.Length > active.Options.MaxItemBytes)
        {
            stats.OnTooLarge();
            return;
        }

        if (!active.Store.IsAvailable)
        {
            Unavailable("not connected");
            return;
        }

        try
        {
            active.Store.Set(key, CacheEntry.Create(time.GetUtcNow(), response), ttl);
            stats.OnStored();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            Unavailable(ex.Message);
        }
    }

    /// <summary>
    /// Opens the cache of the config in force and waits a bounded time for its first connection, so a gateway that
    /// starts next to a running Redis caches from its first request; a Redis that is down delays start-up by at most that.
    /// </summary>
    public async Task StartAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (Current is not { } active)
        {
            return;
        }

        try
        {
            await active.Store.Started.WaitAsync(wait, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Requests run uncached until the background connection succeeds.
        }
    }

    /// <summary>/cache/ping: null when caching is off; throws when the backend fails.</summary>
    public async Task<CachePing?> PingAsync(CancellationToken cancellationToken)
    {
        var active = Current;
        if (active is null)
        {
            return null;
        }

        var backend = await active.Store.PingAsync(cancellationToken);
        return new CachePing(active.Options, backend);
    }

    /// <summary>/cache/delete: null when caching is off.</summary>
    public async Task<long?> DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
        Current is { } active ? await active.Store.DeleteAsync(keys, cancellationToken) : null;

    /// <summary>/cache/flushall: null when caching is off.</summary>
    public async Task<long?> FlushAsync(CancellationToken cancellationToken) =>
        Current is { } active ? await active.Store.FlushAsync(cancellationToken) : null;

    public void Dispose()
    {
        lock (_swapGate)
        {
            _active?.Store.Dispose();
            _active = null;
        }
    }

    private ActiveCache? Swap(CacheOptions? options)
    {
        lock (_swapGate)
        {
            var active = _active;
            if (ReferenceEquals(active?.Options, options))
            {
                return active;
            }

            ActiveCache? next;
            if (options is null)
            {
                next = null;
            }
            else if (active is not null && active.Options.StoreIdentity == options.StoreIdentity)
            {
                next = new ActiveCache(options, active.Store);
            }
            else
            {
                next = new ActiveCache(options, CreateStore(options));
            }

            if (active is not null && !ReferenceEquals(active.Store, next?.Store))
            {
                // Requests still using the old store fail over to "uncached"; nothing they need is lost.
                active.Store.Dispose();
            }

            if (options is not null)
            {
                Log.CacheEnabled(logger, options.Backend == CacheBackend.Redis ? "redis" : "local", options.Backend == CacheBackend.Redis ? options.RedisEndpoint : "memory", options.OptIn ? "default_off" : "default_on");
            }

            _active = next;
            return next;
        }
    }

    private IResponseCacheStore CreateStore(CacheOptions options) => options.Backend == CacheBackend.Redis
        ? new RedisResponseCacheStore(options, logger)
        : new InMemoryResponseCacheStore(options.MaxMemoryBytes, time, stats);

    private void Unavailable(string reason)
    {
        stats.OnError();
        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref _lastWarning);
        if (last != long.MinValue && time.GetElapsedTime(last, now) < WarningInterval)
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _lastWarning, now, last) == last)
        {
            Log.Unavailable(logger, reason, stats.Errors);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2310, LogLevel.Warning, "Response cache unavailable ({Reason}); requests go upstream uncached ({Errors} cache errors so far; this warning repeats at most every 30 s)")]
        public static partial void Unavailable(ILogger logger, string reason, long errors);

        [LoggerMessage(2311, LogLevel.Information, "Response cache on: {Type} ({Where}), mode {Mode}")]
        public static partial void CacheEnabled(ILogger logger, string type, string where, string mode);
    }
}

/// <summary>The settings and store of one config version.</summary>
internal sealed record ActiveCache(CacheOptions Options, IResponseCacheStore Store);

/// <summary>What /cache/ping reports.</summary>
public sealed record CachePing(CacheOptions Options, IReadOnlyList<KeyValuePair<string, string>> Backend);
