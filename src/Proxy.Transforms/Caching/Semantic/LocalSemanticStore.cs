using System.Collections.Concurrent;
using System.Globalization;
using Proxy.Transforms.Caching.Semantic.Index;

namespace Proxy.Transforms.Caching.Semantic;

/// <summary>
/// <c>local-semantic</c> (a gateway extension): entries and their index in this process's memory, for one gateway
/// without Redis. Bounded by <see cref="CacheOptions.MaxMemoryBytes"/> (answers plus vectors), the oldest entry is
/// dropped first; entries expire after their ttl (600 s when none is set, as LiteLLM's local cache).
/// </summary>
internal sealed class LocalSemanticStore(SemanticCacheOptions options, SemanticIndex index, TimeProvider time, SemanticCacheStats stats) : ISemanticCacheStore
{
    // Rough per-entry cost of the dictionary slot, index row and graph links, so that many tiny entries are bounded too.
    private const int EntryOverhead = 512;

    private readonly ConcurrentDictionary<string, Stored> _entries = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly Lock _gate = new();
    private long _bytes;

    public bool IsAvailable => true;

    public Task Started => Task.CompletedTask;

    public long Entries => _entries.Count;

    public ValueTask<ReadOnlyMemory<byte>?> GetExactAsync(string entryId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Fresh(entryId));

    public ValueTask<SemanticMatch?> SearchAsync(string scope, float[] vector, double threshold, CancellationToken cancellationToken)
    {
        if (index.Search(scope, vector) is not { } match)
        {
            return ValueTask.FromResult<SemanticMatch?>(null);
        }

        var entry = match.Similarity >= threshold ? Fresh(match.EntryId) : null;
        return ValueTask.FromResult<SemanticMatch?>(new SemanticMatch(match.EntryId, match.Similarity, entry));
    }

    public void Store(SemanticEntry entry)
    {
        var cost = Cost(entry);
        if (cost > options.Common.MaxMemoryBytes)
        {
            stats.OnTooLarge();
            return;
        }

        var ttl = entry.Ttl ?? CacheOptions.LocalDefaultTtl;
        var expiresAt = time.GetUtcNow().ToUnixTimeMilliseconds() + (long)ttl.TotalMilliseconds;
        lock (_gate)
        {
            if (_entries.TryGetValue(entry.EntryId, out var previous))
            {
                _bytes -= previous.Cost;
            }
            else
            {
                _order.Enqueue(entry.EntryId);
            }

            _entries[entry.EntryId] = new Stored(entry.Entry, expiresAt, cost);
            _bytes += cost;
            while (_bytes > options.Common.MaxMemoryBytes && _order.TryDequeue(out var oldest))
            {
                if (_entries.TryRemove(oldest, out var evicted))
                {
                    _bytes -= evicted.Cost;
                    index.Remove(oldest);
                    stats.OnEvicted();
                }
            }
        }

        index.Upsert(new IndexedEntry(entry.EntryId, entry.Scope, entry.Vector, expiresAt));
    }

    public Task<long> DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        long removed = 0;
        lock (_gate)
        {
            foreach (var key in keys)
            {
                var entryId = key.StartsWith(options.IndexName + ":", StringComparison.Ordinal) ? key[(options.IndexName.Length + 1)..] : key;
                if (_entries.TryRemove(entryId, out var stored))
                {
                    _bytes -= stored.Cost;
                    index.Remove(entryId);
                    removed++;
                }
            }
        }

        return Task.FromResult(removed);
    }

    public Task<long> FlushAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            long count = _entries.Count;
            _entries.Clear();
            _order.Clear();
            _bytes = 0;
            index.Clear();
            return Task.FromResult(count);
        }
    }

    public Task<IReadOnlyList<KeyValuePair<string, string>>> PingAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<KeyValuePair<string, string>>>(
        [
            new("max_size_in_memory_bytes", options.Common.MaxMemoryBytes.ToString(CultureInfo.InvariantCulture)),
            new("bytes_in_use", Interlocked.Read(ref _bytes).ToString(CultureInfo.InvariantCulture)),
            new("entries", _entries.Count.ToString(CultureInfo.InvariantCulture)),
            new("index_entries", index.Count.ToString(CultureInfo.InvariantCulture)),
        ]);

    public void Dispose() => index.Dispose();

    private ReadOnlyMemory<byte>? Fresh(string entryId) =>
        _entries.TryGetValue(entryId, out var stored) && stored.ExpiresAtMs > time.GetUtcNow().ToUnixTimeMilliseconds() ? stored.Entry : null;

    private static long Cost(SemanticEntry entry) =>
        entry.Entry.Length + (entry.Vector.Length * sizeof(float)) + (entry.EntryId.Length * 2L) + EntryOverhead;

    private sealed record Stored(byte[] Entry, long ExpiresAtMs, long Cost);
}
