namespace Proxy.Transforms.Caching.Semantic;

/// <summary>Counters of the semantic cache since start, for /cache/ping, /health/readiness and /metrics. A DI singleton.</summary>
public sealed class SemanticCacheStats
{
    private long _hits;
    private long _exactHits;
    private long _misses;
    private long _stores;
    private long _errors;
    private long _embeddingFailures;
    private long _embeddingSkipped;
    private long _skippedTooLarge;
    private long _evictions;

    /// <summary>Requests answered from the cache (by similarity or by their exact text).</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Hits on the exact text, answered without an embedding call.</summary>
    public long ExactHits => Interlocked.Read(ref _exactHits);

    public long Misses => Interlocked.Read(ref _misses);

    public long Stores => Interlocked.Read(ref _stores);

    /// <summary>Backend calls that failed or timed out (the request went on uncached).</summary>
    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>Embeddings that failed or timed out (the request went upstream uncached and its answer was not stored).</summary>
    public long EmbeddingFailures => Interlocked.Read(ref _embeddingFailures);

    /// <summary>Lookups that did not try to embed because a recent embedding had failed.</summary>
    public long EmbeddingSkipped => Interlocked.Read(ref _embeddingSkipped);

    public long SkippedTooLarge => Interlocked.Read(ref _skippedTooLarge);

    /// <summary>local-semantic entries dropped to stay within the memory bound.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    internal void OnHit(bool exact)
    {
        Interlocked.Increment(ref _hits);
        if (exact)
        {
            Interlocked.Increment(ref _exactHits);
        }
    }

    internal void OnMiss() => Interlocked.Increment(ref _misses);

    internal void OnStored() => Interlocked.Increment(ref _stores);

    internal void OnError() => Interlocked.Increment(ref _errors);

    internal void OnEmbeddingFailed() => Interlocked.Increment(ref _embeddingFailures);

    internal void OnEmbeddingSkipped() => Interlocked.Increment(ref _embeddingSkipped);

    internal void OnTooLarge() => Interlocked.Increment(ref _skippedTooLarge);

    internal void OnEvicted() => Interlocked.Increment(ref _evictions);
}
