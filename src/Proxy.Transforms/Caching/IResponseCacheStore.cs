namespace Proxy.Transforms.Caching;

/// <summary>Where entries (<see cref="CacheEntry"/>) live. Failures throw; <see cref="ResponseCache"/> turns them into misses.</summary>
internal interface IResponseCacheStore : IDisposable
{
    /// <summary>False when the backend is known to be unreachable right now (then no call is made).</summary>
    bool IsAvailable { get; }

    /// <summary>Completes when the first connection attempt has ended (either way).</summary>
    Task Started { get; }

    ValueTask<ReadOnlyMemory<byte>?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Stores without waiting for the backend's answer where it can (Redis: fire and forget).</summary>
    void Set(string key, byte[] entry, TimeSpan? ttl);

    Task<long> DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken);

    Task<long> FlushAsync(CancellationToken cancellationToken);

    /// <summary>Pings and writes a test entry; throws on failure. Returns backend facts for /cache/ping.</summary>
    Task<IReadOnlyList<KeyValuePair<string, string>>> PingAsync(CancellationToken cancellationToken);
}
