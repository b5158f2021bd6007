using Proxy.Transforms.Caching.Semantic.Index;

namespace Proxy.Benchmarks;

/// <summary>Deterministic pseudo-random unit vectors (splitmix64), the worst case for an ANN index: no clusters.</summary>
internal static class SyntheticVectors
{
    public static float[][] Unit(int count, int dimensions, ulong seed)
    {
        var state = seed;
        var vectors = new float[count][];
        for (var i = 0; i < count; i++)
        {
            var vector = new float[dimensions];
            for (var d = 0; d < dimensions; d++)
            {
                state += 0x9E3779B97F4A7C15UL;
                var z = state;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                vector[d] = (float)((((z ^ (z >> 31)) >> 11) * (1.0 / (1UL << 53)) * 2) - 1);
            }

            vectors[i] = SemanticIndex.Normalized(vector);
        }

        return vectors;
    }

    /// <summary>
    /// Stored prompts as embeddings of real text look: topics (one per 100 entries, random directions) and prompts
    /// around them (topic + noise, so two prompts of a topic have a cosine of about 0.6, of two topics about 0).
    /// </summary>
    public static (float[][] Stored, float[][] Topics) Clustered(int count, int dimensions, ulong seed)
    {
        var topics = Unit(Math.Max(1, count / 100), dimensions, seed);
        var noise = Unit(count, dimensions, seed + 1);
        var stored = new float[count][];
        for (var i = 0; i < count; i++)
        {
            stored[i] = Mix(topics[i % topics.Length], noise[i], 0.8f);
        }

        return (stored, topics);
    }

    /// <summary>
    /// Lookups as a semantic cache sees them: half paraphrases of stored prompts (cosine about 0.97 to theirs), half new
    /// prompts on a known topic (cosine about 0.6 to the nearest stored one: a miss). With <paramref name="topics"/>
    /// null, the new prompts are random directions (uniform data: the worst case for any graph index).
    /// </summary>
    public static float[][] Queries(float[][] stored, float[][]? topics, int count, ulong seed)
    {
        var noise = Unit(count, stored[0].Length, seed);
        var queries = new float[count][];
        for (var i = 0; i < count; i++)
        {
            var pick = (int)((uint)(i * 7919) % (uint)stored.Length);
            queries[i] = i % 2 == 0 ? Mix(stored[pick], noise[i], 0.25f)
                : topics is null ? noise[i]
                : Mix(topics[pick % topics.Length], noise[i], 0.8f);
        }

        return queries;
    }

    private static float[] Mix(float[] a, float[] b, float weight) => SemanticIndex.Normalized([.. a.Zip(b, (x, y) => x + (weight * y))]);

    public static ScopeIndex Build(float[][] vectors)
    {
        var index = new ScopeIndex(vectors[0].Length);
        for (var i = 0; i < vectors.Length; i++)
        {
            index.Add("e" + i, vectors[i], long.MaxValue);
        }

        return index;
    }
}
