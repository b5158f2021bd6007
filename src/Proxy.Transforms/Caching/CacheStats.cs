namespace Proxy.Transforms.Caching;

/// <summary>
/// Counters of the response cache since start, for /health/readiness and the metrics exporter. A DI singleton, so
/// tests and a new gateway start from zero.
/// </summary>
public sealed class CacheStats
{
    private long _hits;
    private long _misses;
    private long _stores;
    private long _errors;
    private long _skippedTooLarge;
    private long _evictions;

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    public long Stores => Interlocked.Read(ref _stores);

    /// <summary>Lookups or stores that failed or timed out (the request went on uncached).</summary>
    public long Errors => Interlocked.Read(ref _errors);

    public long SkippedTooLarge => Interlocked.Read(ref _skippedTooLarge);

    /// <summary>Local entries dropped to stay within the memory bound.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    internal void OnHit() => Interlocked.Increment(ref _hits);

    internal void OnMiss() => Interlocked.Increment(ref _misses);

    internal void OnStored() => Interlocked.Increment(ref _stores);

    internal void OnError() => Interlocked.Increment(ref _errors);

    internal void OnTooLarge() => Interlocked.Increment(ref _skippedTooLarge);

    internal void OnEvicted() => Interlocked.Increment(ref _evictions);
}
