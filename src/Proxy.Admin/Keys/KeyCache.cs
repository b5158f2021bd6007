using System.Collections.Concurrent;
using Proxy.Admin.Budgets;

namespace Proxy.Admin.Keys;

/// <summary>
/// Keys by hash, looked up with the hash in a stack buffer (no string per request). Unknown hashes are remembered
/// for a few seconds so that a client retrying a bad key does not turn into a query per request.
/// </summary>
internal sealed class KeyCache(TimeProvider time, AdminOptions options, IKeyLimitCounters counters)
{
    // Bounded so that random keys cannot grow memory without end; clearing it only costs lookups.
    private const int MaxNegativeEntries = 10_000;

    private readonly ConcurrentDictionary<string, KeyEntry> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _unknown = new(StringComparer.Ordinal);

    public int Count => _keys.Count;

    public bool TryGet(ReadOnlySpan<char> hash, out KeyEntry entry) =>
        _keys.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(hash, out entry!);

    public bool TryGet(string hash, out KeyEntry entry) => _keys.TryGetValue(hash, out entry!);

    public bool IsKnownUnknown(ReadOnlySpan<char> hash)
    {
        if (!_unknown.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(hash, out var until))
        {
            return false;
        }

        return time.GetTimestamp() < until;
    }

    public void RememberUnknown(string hash)
    {
        if (_unknown.Count >= MaxNegativeEntries)
        {
            _unknown.Clear();
        }

        var ticks = (long)(options.NegativeCacheTime.TotalSeconds * time.TimestampFrequency);
        _unknown[hash] = time.GetTimestamp() + ticks;
    }

    /// <summary>Adds or refreshes a key from its row; an existing entry keeps its live spend and counters.</summary>
    public KeyEntry Put(KeySettings settings)
    {
        _unknown.TryRemove(settings.Token, out _);
        var entry = _keys.GetOrAdd(settings.Token, static (_, s) => new KeyEntry(s), settings);
        if (!ReferenceEquals(entry.Settings, settings))
        {
            entry.Replace(settings);
        }

        counters.Track(entry);
        return entry;
    }

    public void Remove(string hash) => _keys.TryRemove(hash, out _);

    public ICollection<KeyEntry> Entries => _keys.Values;
}
