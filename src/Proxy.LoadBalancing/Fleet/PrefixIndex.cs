namespace Proxy.LoadBalancing.Fleet;

/// <summary>
/// The gateway's picture of one deployment's prefix (KV) cache: the block hashes it routed there, bounded to a capacity in
/// blocks and evicted least recently used first, as the engine evicts. An open-addressing table of hashes with a
/// generation stamp each; a generation spans 1/32 of the capacity in block uses, so eviction drops whole generations (LRU
/// to within 1/32 of the capacity) in one sweep instead of keeping a linked list per block.
/// </summary>
/// <remarks>
/// Every block of a request is stamped when it is used, so a chain's head is never older than its tail: what survives is
/// always a prefix, and <see cref="Match"/> can binary-search for its end. One lock per deployment; the work under it is
/// a few probes for a match and one probe per block for a use. Allocates only when the table grows.
/// </remarks>
internal sealed class PrefixIndex
{
    private const int MinTableSize = 256;
    private const int GenerationsPerCapacity = 32;
    private const int GenerationRing = 128;

    private readonly Lock _gate = new();
    private readonly int[] _perGeneration = new int[GenerationRing];
    private ulong[] _keys = new ulong[MinTableSize];
    private uint[] _stamps = new uint[MinTableSize];
    private ulong[]? _spareKeys;
    private uint[]? _spareStamps;
    private int _count;
    private int _capacity;
    private uint _generation = 1;
    private uint _oldest = 1;
    private int _usesInGeneration;

    public PrefixIndex(int capacity) => _capacity = Math.Max(1, capacity);

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    public int Capacity
    {
        get
        {
            lock (_gate)
            {
                return _capacity;
            }
        }
    }

    /// <summary>How many leading blocks of <paramref name="chain"/> the deployment is believed to hold.</summary>
    public int Match(ReadOnlySpan<ulong> chain)
    {
        if (chain.IsEmpty)
        {
            return 0;
        }

        lock (_gate)
        {
            if (_count == 0 || Find(chain[0]) < 0)
            {
                return 0;
            }

            if (Find(chain[^1]) >= 0)
            {
                return chain.Length;
            }

            // chain[lo - 1] is held and chain[hi - 1] is not; what is held is a prefix (see remarks).
            var lo = 1;
            var hi = chain.Length;
            while (hi - lo > 1)
            {
                var mid = lo + ((hi - lo) / 2);
                if (Find(chain[mid - 1]) >= 0)
                {
                    lo = mid;
                }
                else
                {
                    hi = mid;
                }
            }

            return lo;
        }
    }

    /// <summary>
    /// The deployment now holds the whole chain: held blocks become the most recent, missing ones are added.
    /// <paramref name="held"/> (from <see cref="Match"/>) says how many leading blocks are known to be held already.
    /// </summary>
    public void Use(ReadOnlySpan<ulong> chain, int held = 0)
    {
        lock (_gate)
        {
            var from = 0;
            if (held > 0 && held <= chain.Length && IsFresh(chain[0]) && IsFresh(chain[held - 1]))
            {
                // The held part's head and its deepest block were both used within the newest 1/8 of the capacity, so all
                // of it survives until it is checked again: only the new blocks cost a probe each. (Checking the head too
                // matters: a shared system prompt must not age behind the conversations that skip refreshing it.)
                from = held;
            }

            foreach (var key in chain[from..])
            {
                Touch(key);
            }

            Advance(chain.Length - from);
            if (_count > _capacity)
            {
                EvictOldest();
            }
        }
    }

    /// <summary>Forgets these blocks (an attempt that failed before the engine computed them).</summary>
    public void Remove(ReadOnlySpan<ulong> keys)
    {
        lock (_gate)
        {
            foreach (var key in keys)
            {
                RemoveKey(key);
            }
        }
    }

    /// <summary>Forgets everything (the engine restarted or reset its cache).</summary>
    public void Clear()
    {
        lock (_gate)
        {
            Array.Clear(_keys);
            Array.Clear(_stamps);
            Array.Clear(_perGeneration);
            _count = 0;
            _oldest = _generation;
        }
    }

    public void SetCapacity(int capacity)
    {
        lock (_gate)
        {
            _capacity = Math.Max(1, capacity);
            if (_count > _capacity)
            {
                EvictOldest();
            }
        }
    }

    private int Mask => _keys.Length - 1;

    private bool IsFresh(ulong key) => Find(key) is var slot and >= 0 && (int)(_generation - _stamps[slot]) < GenerationsPerCapacity / 8;

    private static int Home(ulong key, int mask) => (int)(key ^ (key >> 29)) & mask;

    private int Find(ulong key)
    {
        var mask = Mask;
        for (var i = Home(key, mask); ; i = (i + 1) & mask)
        {
            var slot = _keys[i];
            if (slot == key)
            {
                return i;
            }

            if (slot == 0)
            {
                return -1;
            }
        }
    }

    private void Touch(ulong key)
    {
        var slot = Find(key);
        var generation = _generation;
        if (slot >= 0)
        {
            var old = _stamps[slot];
            if (old != generation)
            {
                _perGeneration[old % GenerationRing]--;
                _perGeneration[generation % GenerationRing]++;
                _stamps[slot] = generation;
            }

            return;
        }

        if ((_count + 1) * 2 > _keys.Length)
        {
            Rebuild(_keys.Length * 2, evictThrough: _oldest - 1);
        }

        Insert(_keys, _stamps, key, generation);
        _perGeneration[generation % GenerationRing]++;
        _count++;
    }

    private static void Insert(ulong[] keys, uint[] stamps, ulong key, uint stamp)
    {
        var mask = keys.Length - 1;
        var i = Home(key, mask);
        while (keys[i] != 0)
        {
            i = (i + 1) & mask;
        }

        keys[i] = key;
        stamps[i] = stamp;
    }

    private void RemoveKey(ulong key)
    {
        var hole = Find(key);
        if (hole < 0)
        {
            return;
        }

        _perGeneration[_stamps[hole] % GenerationRing]--;
        _count--;
        // Backward-shift deletion: pull later entries of the probe run into the hole when their home allows it.
        var mask = Mask;
        var next = hole;
        while (true)
        {
            next = (next + 1) & mask;
            var moved = _keys[next];
            if (moved == 0)
            {
                break;
            }

            var home = Home(moved, mask);
            var stays = hole <= next ? hole < home && home <= next : hole < home || home <= next;
            if (stays)
            {
                continue;
            }

            _keys[hole] = moved;
            _stamps[hole] = _stamps[next];
            hole = next;
        }

        _keys[hole] = 0;
        _stamps[hole] = 0;
    }

    private void Advance(int uses)
    {
        _usesInGeneration += uses;
        var span = Math.Max(1, _capacity / GenerationsPerCapacity);
        while (_usesInGeneration >= span)
        {
            _usesInGeneration -= span;
            _generation++;
            if (_generation - _oldest >= GenerationRing - 1)
            {
                // The ring of generation counts is full: the oldest generation goes (usually empty by now: its blocks were
                // used again since).
                if (_perGeneration[_oldest % GenerationRing] == 0)
                {
                    _oldest++;
                }
                else
                {
                    Rebuild(_keys.Length, evictThrough: _oldest);
                }
            }
        }
    }

    /// <summary>Drops the oldest generations until the count is back to 7/8 of the capacity; never the current one.</summary>
    private void EvictOldest()
    {
        var target = _capacity - (_capacity / 8);
        var cutoff = _oldest - 1;
        var left = _count;
        while (left > target && cutoff + 1 < _generation)
        {
            cutoff++;
            left -= _perGeneration[cutoff % GenerationRing];
        }

        if (cutoff >= _oldest)
        {
            Rebuild(TableSizeFor(left), cutoff);
        }
    }

    private int TableSizeFor(int entries)
    {
        var size = MinTableSize;
        while (size < entries * 2)
        {
            size *= 2;
        }

        // Shrinking a table only to grow it again costs more than the memory it frees.
        return Math.Max(size, Math.Min(_keys.Length, TableSizeForCapacity()));
    }

    private int TableSizeForCapacity()
    {
        var size = MinTableSize;
        while (size < (long)_capacity * 2 && size < (1 << 30))
        {
            size *= 2;
        }

        return size;
    }

    /// <summary>Copies the entries newer than generation <paramref name="evictThrough"/> into a table of <paramref name="size"/> slots.</summary>
    private void Rebuild(int size, uint evictThrough)
    {
        ulong[] keys;
        uint[] stamps;
        if (_spareKeys is { } spare && spare.Length == size)
        {
            keys = spare;
            stamps = _spareStamps!;
            Array.Clear(keys);
            Array.Clear(stamps);
        }
        else
        {
            keys = new ulong[size];
            stamps = new uint[size];
        }

        var count = 0;
        for (var i = 0; i < _keys.Length; i++)
        {
            var key = _keys[i];
            // Stamps only grow, so "newer than" is a signed difference (safe across wrap-around).
            if (key != 0 && (int)(_stamps[i] - evictThrough) > 0)
            {
                Insert(keys, stamps, key, _stamps[i]);
                count++;
            }
        }

        for (var generation = _oldest; (int)(evictThrough - generation) >= 0; generation++)
        {
            _perGeneration[generation % GenerationRing] = 0;
        }

        if ((int)(evictThrough + 1 - _oldest) > 0)
        {
            _oldest = evictThrough + 1;
        }

        _spareKeys = _keys;
        _spareStamps = _stamps;
        _keys = keys;
        _stamps = stamps;
        _count = count;
    }
}
