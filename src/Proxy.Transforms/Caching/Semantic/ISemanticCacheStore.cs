namespace Proxy.Transforms.Caching.Semantic;

/// <summary>
/// Where semantic cache entries live and how their vectors are searched. Failures throw (Redis, HTTP, timeouts);
/// <see cref="SemanticCache"/> turns them into misses. Entries are <see cref="CacheEntry"/> bytes, as in the exact cache.
/// </summary>
internal interface ISemanticCacheStore : IDisposable
{
    /// <summary>False when the backend is known to be unreachable right now (then no call is made).</summary>
    bool IsAvailable { get; }

    /// <summary>Completes when the first connection attempt has ended (either way).</summary>
    Task Started { get; }

    /// <summary>Entries this replica knows of (its index), or -1 when only the backend knows.</summary>
    long Entries { get; }

    /// <summary>
    /// The stored entry of exactly this scope and text when the store can tell cheaply that it exists (an in-process
    /// index): the repeated prompt is then answered without an embedding call. Null otherwise.
    /// </summary>
    ValueTask<ReadOnlyMemory<byte>?> GetExactAsync(string entryId, CancellationToken cancellationToken);

    /// <summary>The closest entry of the scope to <paramref name="vector"/>; its <see cref="SemanticMatch.Entry"/> is set only at or above the threshold.</summary>
    ValueTask<SemanticMatch?> SearchAsync(string scope, float[] vector, double threshold, CancellationToken cancellationToken);

    /// <summary>Stores without waiting for the backend where it can (the answer has been sent already).</summary>
    void Store(SemanticEntry entry);

    /// <summary>Removes entries by their keys (<see cref="SemanticCacheOptions.EntryKey"/>); returns how many existed.</summary>
    Task<long> DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken);

    Task<long> FlushAsync(CancellationToken cancellationToken);

    /// <summary>Checks the backend (throws on failure) and returns its facts for /cache/ping.</summary>
    Task<IReadOnlyList<KeyValuePair<string, string>>> PingAsync(CancellationToken cancellationToken);
}
