namespace Proxy.Transforms.Caching;

/// <summary>
/// LiteLLM's <c>local</c> cache: this process's memory, bounded by bytes with least-recently-used eviction, and
/// expiring entries after their ttl (LiteLLM's in-memory default of 600 s when none is set).
/// </summary>
internal sealed class InMemoryResponseCacheStore(long maxBytes, TimeProvider time, CacheStats stats) : IResponseCacheStore
{
    // Rough per-entry cost of the node, dictionary slot and key object, so that many tiny entries are bounded too.
    private const int EntryOverhead = 128;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _lru = new();
    private long _bytes;

    public bool IsAvailable => true;

    public Task Started => Task.CompletedTask;

    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    public ValueTask<ReadOnlyMemory<byte>?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var now = time.GetTimestamp();
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var node))
            {
                return ValueTask.FromResult<ReadOnlyMemory<byte>?>(null);
            }

            if (node.Value.ExpiresAt <= now)
            {
                RemoveLocked(node);
                return ValueTask.FromResult<ReadOnlyMemory<byte>?>(null);
            }

            _lru.Remove(node);
            _lru.AddFirst(node);
            return ValueTask.FromResult<ReadOnlyMemory<byte>?>(node.Value.Data);
        }
    }

    public void Set(string key, byte[] entry, TimeSpan? ttl)
    {
        var cost = Cost(key, entry);
        if (cost > maxBytes)
        {
            stats.OnTooLarge();
            return;
        }

        var lifetime = ttl ?? CacheOptions.LocalDefaultTtl;
        var now = time.GetTimestamp();
        var expiresAt = now + (long)(lifetime.TotalSeconds * time.TimestampFrequency);
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var existing))
            {
                RemoveLocked(existing);
            }

            // An expired entry that is never asked for again would otherwise stay until the byte bound evicts it: with
            // traffic of distinct prompts the cache then fills max_memory_kb (256 MB by default) whatever the ttl. The
            // least recently used end is where they gather; dropping them here costs one check per store.
            while (_lru.Last is { } stale && stale.Value.ExpiresAt <= now)
            {
                RemoveLocked(stale);
            }

            while (_bytes + cost > maxBytes && _lru.Last is { } oldest)
            {
                RemoveLocked(oldest);
                stats.OnEvicted();
            }

            var node = _lru.AddFirst(new Entry(key, entry, expiresAt));
            _entries[key] = node;
            _bytes += cost;
        }
    }

    public Task<long> DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        long removed = 0;
        lock (_gate)
        {
            foreach (var key in keys)
            {
                if (_entries.TryGetValue(key, out var node))
                {
                    RemoveLocked(node);
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
            _lru.Clear();
            _bytes = 0;
            return Task.FromResult(count);
        }
    }

    public Task<IReadOnlyList<KeyValuePair<string, string>>> PingAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<KeyValuePair<string, string>>>(
        [
            new("max_size_in_memory_bytes", maxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("bytes_in_use", Bytes.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("entries", Count.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ]);

    public void Dispose()
    {
    }

    private static long Cost(string key, byte[] entry) => entry.Length + (key.Length * 2L) + EntryOverhead;

    private void RemoveLocked(LinkedListNode<Entry> node)
    {
        _lru.Remove(node);
        _entries.Remove(node.Value.Key);
        _bytes -= Cost(node.Value.Key, node.Value.Data);
    }

    private sealed record Entry(string Key, byte[] Data, long ExpiresAt);
}
