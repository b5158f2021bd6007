namespace FakeUpstream.Fleet;

/// <summary>
/// A simulated KV prefix cache: blocks keyed by their chained hash, pinned while a request uses them, and otherwise in
/// LRU order, evicted from the least recently released when space is needed (as vLLM's free block queue). Not
/// thread-safe: the engine holds its lock around every call.
/// </summary>
internal sealed class BlockCache(int capacity)
{
    private readonly Dictionary<ulong, Block> _blocks = [];
    private readonly LinkedList<ulong> _free = new();

    public int Capacity { get; } = Math.Max(1, capacity);

    /// <summary>Blocks in use or cached.</summary>
    public int Count => _blocks.Count;

    /// <summary>Blocks pinned by running requests.</summary>
    public int Pinned => _blocks.Count - _free.Count;

    /// <summary>How many leading blocks of the chain are cached.</summary>
    public int Match(ReadOnlySpan<ulong> chain)
    {
        var i = 0;
        while (i < chain.Length && _blocks.ContainsKey(chain[i]))
        {
            i++;
        }

        return i;
    }

    /// <summary>Pins every block of the chain, allocating the missing ones (evicting free blocks to make room).</summary>
    public void Acquire(ReadOnlySpan<ulong> chain)
    {
        foreach (var hash in chain)
        {
            if (_blocks.TryGetValue(hash, out var block))
            {
                if (block.Pins++ == 0 && block.Free is not null)
                {
                    _free.Remove(block.Free);
                    block.Free = null;
                }

                continue;
            }

            while (_blocks.Count >= Capacity && _free.First is { } oldest)
            {
                _free.RemoveFirst();
                _blocks.Remove(oldest.Value);
            }

            // With every block pinned the cache runs over its size rather than stalling the simulation; vLLM would
            // preempt a request instead. Counted in Count, so kv_cache_usage_perc shows it above 1.
            _blocks[hash] = new Block { Pins = 1 };
        }
    }

    /// <summary>Unpins the chain; blocks nobody uses become free, the chain's head the most recently used.</summary>
    public void Release(ReadOnlySpan<ulong> chain)
    {
        // In reverse, like vLLM, so that a chain's tail is evicted before its head and what stays is always a prefix.
        for (var i = chain.Length - 1; i >= 0; i--)
        {
            if (_blocks.TryGetValue(chain[i], out var block) && block.Pins > 0 && --block.Pins == 0)
            {
                block.Free = _free.AddLast(chain[i]);
            }
        }
    }

    private sealed class Block
    {
        public int Pins;
        public LinkedListNode<ulong>? Free;
    }
}
