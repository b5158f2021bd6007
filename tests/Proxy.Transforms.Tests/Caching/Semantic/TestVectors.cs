using Proxy.Transforms.Caching.Semantic.Index;

namespace Proxy.Transforms.Tests.Caching.Semantic;

/// <summary>Deterministic pseudo-random unit vectors (splitmix64), so index tests are repeatable.</summary>
internal static class TestVectors
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
                z ^= z >> 31;
                vector[d] = (float)(((z >> 11) * (1.0 / (1UL << 53)) * 2) - 1);
            }

            vectors[i] = SemanticIndex.Normalized(vector);
        }

        return vectors;
    }

    /// <summary>A vector near <paramref name="of"/>: mostly it, a little of <paramref name="noise"/>.</summary>
    public static float[] Near(float[] of, float[] noise, float weight = 0.2f) =>
        SemanticIndex.Normalized([.. of.Zip(noise, (a, b) => a + (weight * b))]);

    public static int ExactBest(float[][] vectors, float[] query)
    {
        var best = -1;
        var bestSimilarity = float.NegativeInfinity;
        for (var i = 0; i < vectors.Length; i++)
        {
            var similarity = System.Numerics.Tensors.TensorPrimitives.Dot(vectors[i], query);
            if (similarity > bestSimilarity)
            {
                bestSimilarity = similarity;
                best = i;
            }
        }

        return best;
    }
}
