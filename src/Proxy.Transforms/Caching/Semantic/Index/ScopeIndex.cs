using System.Numerics.Tensors;

namespace Proxy.Transforms.Caching.Semantic.Index;

/// <summary>
/// The vectors of one cache scope and the nearest-neighbour search over them: an exact cosine scan
/// (<see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>, SIMD) while the scope holds at most
/// <see cref="ExactLimit"/> live entries, and an HNSW graph (Malkov and Yashunin, 2016) above that, kept up to date on
/// every insert so that the switch costs nothing.
/// </summary>
/// <remarks>
/// One writer (the index's writer loop) and any number of lock-free readers. Rows are appended into fixed chunks and
/// published by <see cref="_count"/>; a row's neighbour lists are immutable arrays replaced whole, so a reader sees
/// either the old list or the new one. Removal marks a row dead (it still routes searches but is never returned); the
/// owner rebuilds a scope whose rows are mostly dead. Vectors are unit length, so the dot product is the cosine.
/// </remarks>
internal sealed class ScopeIndex
{
    /// <summary>
    /// Up to this many live entries a search compares against every one of them (1.5 MB of vectors at 384 dimensions,
    /// tens of microseconds); above it the graph is cheaper (measured: a 4,096-entry scan cost more than a 10,000-entry
    /// graph search).
    /// </summary>
    public const int ExactLimit = 1024;

    private const int ChunkBits = 10;
    private const int ChunkRows = 1 << ChunkBits;

    // HNSW parameters: M links per node (2M on the bottom layer), ef candidates while building and searching. These
    // reach ~99 % recall@1 on 100k vectors of 384 dimensions while a search stays well under a millisecond.
    private const int M = 16;
    private const int BottomM = 2 * M;
    private const int EfConstruction = 64;
    private const int EfSearch = 32;
    private static readonly double LevelFactor = 1 / Math.Log(M);

    [ThreadStatic]
    private static SearchScratch? t_scratch;

    private readonly object _writeGate = new();
    private float[][] _vectors = [];
    private IndexRow[][] _rows = [];
    private int _count;
    private int _dead;
    private volatile EntryPoint? _entry;
    private ulong _random;

    public ScopeIndex(int dimensions, ulong seed = 0x9E3779B97F4A7C15UL)
    {
        Dimensions = dimensions;
        _random = seed | 1;
    }

    public int Dimensions { get; }

    /// <summary>Rows ever added (live and dead).</summary>
    public int Count => Volatile.Read(ref _count);

    public int LiveCount => Volatile.Read(ref _count) - Volatile.Read(ref _dead);

    public int DeadCount => Volatile.Read(ref _dead);

    public IndexRow Row(int row) => Volatile.Read(ref _rows)[row >> ChunkBits][row & (ChunkRows - 1)];

    public ReadOnlySpan<float> Vector(int row) =>
        Volatile.Read(ref _vectors)[row >> ChunkBits].AsSpan((row & (ChunkRows - 1)) * Dimensions, Dimensions);

    /// <summary>The closest live, unexpired row to <paramref name="query"/> (unit length), or (-1, -1) when there is none.</summary>
    public (int Row, float Similarity) Search(ReadOnlySpan<float> query, long nowMs)
    {
        var count = Volatile.Read(ref _count);
        if (count == 0 || query.Length != Dimensions)
        {
            return (-1, -1);
        }

        return count - Volatile.Read(ref _dead) <= ExactLimit ? SearchExact(query, count, nowMs) : SearchGraph(query, nowMs);
    }

    /// <summary>Appends a row (writer only); <paramref name="vector"/> must be unit length and <see cref="Dimensions"/> long.</summary>
    public int Add(string entryId, ReadOnlySpan<float> vector, long expiresAtMs)
    {
        if (vector.Length != Dimensions)
        {
            throw new ArgumentException($"expected {Dimensions} dimensions, got {vector.Length}", nameof(vector));
        }

        lock (_writeGate)
        {
            var id = _count;
            var level = RandomLevel();
            var neighbors = new int[level + 1][];
            Array.Fill(neighbors, []);
            var row = new IndexRow(entryId, expiresAtMs, level, neighbors, new float[level + 1][]);
            for (var l = 0; l <= level; l++)
            {
                row.Similarities[l] = [];
            }

            EnsureCapacity(id);
            vector.CopyTo(_vectors[id >> ChunkBits].AsSpan((id & (ChunkRows - 1)) * Dimensions, Dimensions));
            _rows[id >> ChunkBits][id & (ChunkRows - 1)] = row;
            Volatile.Write(ref _count, id + 1);
            Link(id, row, vector);
            return id;
        }
    }

    /// <summary>Marks a row removed (writer only); it still routes graph searches but is never a result.</summary>
    public void Remove(int row)
    {
        var entry = Row(row);
        if (Interlocked.Exchange(ref entry.Dead, 1) == 0)
        {
            Interlocked.Increment(ref _dead);
        }
    }

    private (int Row, float Similarity) SearchExact(ReadOnlySpan<float> query, int count, long nowMs)
    {
        var vectors = Volatile.Read(ref _vectors);
        var rows = Volatile.Read(ref _rows);
        var best = -1;
        var bestSimilarity = float.NegativeInfinity;
        for (var chunk = 0; chunk * ChunkRows < count; chunk++)
        {
            var data = vectors[chunk];
            var chunkRows = rows[chunk];
            var end = Math.Min(ChunkRows, count - (chunk * ChunkRows));
            for (var i = 0; i < end; i++)
            {
                var row = chunkRows[i];
                if (row.Dead != 0 || row.ExpiresAtMs <= nowMs)
                {
                    continue;
                }

                var similarity = TensorPrimitives.Dot(query, data.AsSpan(i * Dimensions, Dimensions));
                if (similarity > bestSimilarity)
                {
                    bestSimilarity = similarity;
                    best = (chunk * ChunkRows) + i;
                }
            }
        }

        return best < 0 ? (-1, -1) : (best, bestSimilarity);
    }

    private (int Row, float Similarity) SearchGraph(ReadOnlySpan<float> query, long nowMs)
    {
        var entry = _entry;
        if (entry is null)
        {
            return (-1, -1);
        }

        var current = entry.Row;
        var currentSimilarity = TensorPrimitives.Dot(query, Vector(current));
        for (var level = entry.Level; level > 0; level--)
        {
            (current, currentSimilarity) = Greedy(query, current, currentSimilarity, level);
        }

        var scratch = t_scratch ??= new SearchScratch();
        SearchLayer(query, current, currentSimilarity, EfSearch, 0, scratch);
        var best = -1;
        var bestSimilarity = float.NegativeInfinity;
        while (scratch.Results.TryDequeue(out var row, out var similarity))
        {
            // The results queue pops the least similar first; the last live one standing is the best.
            var candidate = Row(row);
            if (candidate.Dead == 0 && candidate.ExpiresAtMs > nowMs && similarity >= bestSimilarity)
            {
                best = row;
                bestSimilarity = similarity;
            }
        }

        return best < 0 ? (-1, -1) : (best, bestSimilarity);
    }

    private (int Row, float Similarity) Greedy(ReadOnlySpan<float> query, int current, float currentSimilarity, int level)
    {
        var changed = true;
        while (changed)
        {
            changed = false;
            foreach (var neighbor in Row(current).Neighbors[level])
            {
                var similarity = TensorPrimitives.Dot(query, Vector(neighbor));
                if (similarity > currentSimilarity)
                {
                    currentSimilarity = similarity;
                    current = neighbor;
                    changed = true;
                }
            }
        }

        return (current, currentSimilarity);
    }

    // Leaves the up-to-ef most similar rows found on this layer in scratch.Results (a min-queue by similarity).
    private void SearchLayer(ReadOnlySpan<float> query, int entry, float entrySimilarity, int ef, int level, SearchScratch scratch)
    {
        scratch.Reset(Volatile.Read(ref _count));
        var candidates = scratch.Candidates;
        var results = scratch.Results;
        scratch.Visit(entry);
        candidates.Enqueue(entry, -entrySimilarity);
        results.Enqueue(entry, entrySimilarity);
        while (candidates.TryDequeue(out var candidate, out var negated))
        {
            results.TryPeek(out _, out var worst);
            if (-negated < worst && results.Count >= ef)
            {
                break;
            }

            var neighbors = Row(candidate).Neighbors;
            if (level >= neighbors.Length)
            {
                continue;
            }

            foreach (var neighbor in neighbors[level])
            {
                if (!scratch.Visit(neighbor))
                {
                    continue;
                }

                var similarity = TensorPrimitives.Dot(query, Vector(neighbor));
                results.TryPeek(out _, out worst);
                if (results.Count < ef || similarity > worst)
                {
                    candidates.Enqueue(neighbor, -similarity);
                    results.Enqueue(neighbor, similarity);
                    if (results.Count > ef)
                    {
                        results.Dequeue();
                    }
                }
            }
        }
    }

    private void Link(int id, IndexRow row, ReadOnlySpan<float> vector)
    {
        var entry = _entry;
        if (entry is null)
        {
            _entry = new EntryPoint(id, row.Level);
            return;
        }

        var current = entry.Row;
        var currentSimilarity = TensorPrimitives.Dot(vector, Vector(current));
        for (var level = entry.Level; level > row.Level; level--)
        {
            (current, currentSimilarity) = Greedy(vector, current, currentSimilarity, level);
        }

        var scratch = t_scratch ??= new SearchScratch();
        var found = new List<(int Row, float Similarity)>(EfConstruction);
        for (var level = Math.Min(row.Level, entry.Level); level >= 0; level--)
        {
            SearchLayer(vector, current, currentSimilarity, EfConstruction, level, scratch);
            found.Clear();
            while (scratch.Results.TryDequeue(out var candidate, out var similarity))
            {
                found.Add((candidate, similarity));
            }

            // Dequeued least similar first: reverse to most similar first.
            found.Reverse();
            (current, currentSimilarity) = found[0];
            var max = level == 0 ? BottomM : M;
            var selected = SelectNeighbors(found, max);
            row.Neighbors[level] = [.. selected.Select(s => s.Row)];
            row.Similarities[level] = [.. selected.Select(s => s.Similarity)];
            foreach (var (neighbor, similarity) in selected)
            {
                AddBackLink(Row(neighbor), level, id, similarity, max);
            }
        }

        if (row.Level > entry.Level)
        {
            _entry = new EntryPoint(id, row.Level);
        }
    }

    // The paper's heuristic: take a candidate only if it is closer to the new row than to every row already taken, so
    // links spread in different directions instead of all pointing into one cluster; fill up with the closest if short.
    private List<(int Row, float Similarity)> SelectNeighbors(List<(int Row, float Similarity)> candidates, int max)
    {
        var selected = new List<(int Row, float Similarity)>(max);
        foreach (var candidate in candidates)
        {
            if (selected.Count == max)
            {
                break;
            }

            var vector = Vector(candidate.Row);
            var keep = true;
            foreach (var chosen in selected)
            {
                if (TensorPrimitives.Dot(vector, Vector(chosen.Row)) > candidate.Similarity)
                {
                    keep = false;
                    break;
                }
            }

            if (keep)
            {
                selected.Add(candidate);
            }
        }

        foreach (var candidate in candidates)
        {
            if (selected.Count == max)
            {
                break;
            }

            if (!selected.Contains(candidate))
            {
                selected.Add(candidate);
            }
        }

        return selected;
    }

    // The reverse link. A list that outgrows its bound by half is pruned back with the same heuristic as a new row's
    // (hnswlib prunes with it too): keeping only the closest links would tie every row of a tight cluster to its own
    // cluster and cut the graph into islands. Letting lists run over by half prunes a third as often.
    private void AddBackLink(IndexRow row, int level, int id, float similarity, int max)
    {
        var ids = row.Neighbors[level];
        var similarities = row.Similarities[level];
        if (ids.Length < max + (max / 2))
        {
            row.Similarities[level] = [.. similarities, similarity];
            row.Neighbors[level] = [.. ids, id];
            return;
        }

        var candidates = new List<(int Row, float Similarity)>(ids.Length + 1);
        for (var i = 0; i < ids.Length; i++)
        {
            candidates.Add((ids[i], similarities[i]));
        }

        candidates.Add((id, similarity));
        candidates.Sort(static (a, b) => b.Similarity.CompareTo(a.Similarity));
        var selected = SelectNeighbors(candidates, max);
        var nextIds = new int[selected.Count];
        var nextSimilarities = new float[selected.Count];
        for (var i = 0; i < selected.Count; i++)
        {
            (nextIds[i], nextSimilarities[i]) = selected[i];
        }

        row.Similarities[level] = nextSimilarities;
        row.Neighbors[level] = nextIds;
    }

    private void EnsureCapacity(int id)
    {
        var chunk = id >> ChunkBits;
        if (chunk < _rows.Length)
        {
            return;
        }

        // Readers keep the old outer arrays; the chunks themselves are shared, so nothing written is lost to them.
        Volatile.Write(ref _vectors, [.. _vectors, new float[ChunkRows * Dimensions]]);
        Volatile.Write(ref _rows, [.. _rows, new IndexRow[ChunkRows]]);
    }

    private int RandomLevel()
    {
        // splitmix64: deterministic per index, no shared random source on the writer's path.
        var z = _random += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        var uniform = ((z >> 11) + 1) * (1.0 / (1UL << 53));
        return Math.Min(16, (int)(-Math.Log(uniform) * LevelFactor));
    }

    private sealed record EntryPoint(int Row, int Level);

    /// <summary>Per-thread search state: queues and a visited set stamped by generation (no clearing between searches).</summary>
    private sealed class SearchScratch
    {
        private int[] _visited = new int[ChunkRows];
        private int _generation;

        public PriorityQueue<int, float> Candidates { get; } = new();

        public PriorityQueue<int, float> Results { get; } = new();

        public void Reset(int count)
        {
            Candidates.Clear();
            Results.Clear();
            if (_visited.Length < count)
            {
                _visited = new int[Math.Max(count, _visited.Length * 2)];
                _generation = 0;
            }

            if (++_generation == int.MaxValue)
            {
                Array.Clear(_visited);
                _generation = 1;
            }
        }

        /// <summary>False when already visited in this search.</summary>
        public bool Visit(int row)
        {
            if (row >= _visited.Length)
            {
                // A row added after this search began; grow rather than skip it.
                Array.Resize(ref _visited, Math.Max(row + 1, _visited.Length * 2));
            }

            if (_visited[row] == _generation)
            {
                return false;
            }

            _visited[row] = _generation;
            return true;
        }
    }
}
