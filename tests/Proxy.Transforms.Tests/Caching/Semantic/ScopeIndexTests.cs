using Proxy.Transforms.Caching.Semantic.Index;

namespace Proxy.Transforms.Tests.Caching.Semantic;

public sealed class ScopeIndexTests
{
    private const long Never = long.MaxValue;

    [Fact]
    public void Search_below_the_exact_limit_finds_the_true_nearest_neighbour()
    {
        var vectors = TestVectors.Unit(500, 32, seed: 1);
        var index = Build(vectors);
        var queries = TestVectors.Unit(50, 32, seed: 2);

        foreach (var query in queries)
        {
            var (row, similarity) = index.Search(query, nowMs: 0);
            var expected = TestVectors.ExactBest(vectors, query);
            Assert.Equal(expected, row);
            Assert.Equal(System.Numerics.Tensors.TensorPrimitives.Dot(vectors[expected], query), similarity, 5);
        }
    }

    [Fact]
    public void Search_above_the_exact_limit_uses_the_graph_and_finds_near_duplicates()
    {
        // Above ScopeIndex.ExactLimit the graph answers; a slightly perturbed copy of a stored vector must find it.
        var count = ScopeIndex.ExactLimit + 1000;
        var vectors = TestVectors.Unit(count, 48, seed: 3);
        var index = Build(vectors);
        var noise = TestVectors.Unit(200, 48, seed: 4);

        var found = 0;
        for (var i = 0; i < noise.Length; i++)
        {
            var target = (i * 31) % count;
            var (row, _) = index.Search(TestVectors.Near(vectors[target], noise[i]), nowMs: 0);
            found += row == target ? 1 : 0;
        }

        Assert.True(found >= 196, $"graph found {found} of 200 near duplicates");
    }

    [Fact]
    public void Graph_recall_at_one_on_random_queries_is_high()
    {
        var count = ScopeIndex.ExactLimit + 1000;
        var vectors = TestVectors.Unit(count, 24, seed: 5);
        var index = Build(vectors);
        var queries = TestVectors.Unit(300, 24, seed: 6);

        var agree = queries.Count(q => index.Search(q, 0).Row == TestVectors.ExactBest(vectors, q));

        // Random queries in 24 dimensions are the hard case (no clear nearest neighbour); near duplicates are exact.
        Assert.True(agree >= 270, $"recall@1 {agree}/300");
    }

    [Fact]
    public void Removed_and_expired_rows_are_never_returned()
    {
        var vectors = TestVectors.Unit(10, 16, seed: 7);
        var index = new ScopeIndex(16);
        for (var i = 0; i < vectors.Length; i++)
        {
            index.Add("e" + i, vectors[i], expiresAtMs: i == 3 ? 1000 : Never);
        }

        Assert.Equal(3, index.Search(vectors[3], nowMs: 999).Row);
        Assert.NotEqual(3, index.Search(vectors[3], nowMs: 1000).Row);

        index.Remove(5);
        Assert.NotEqual(5, index.Search(vectors[5], nowMs: 0).Row);
        Assert.Equal(9, index.LiveCount);
    }

    [Fact]
    public void Removed_rows_are_skipped_by_the_graph_too()
    {
        var count = ScopeIndex.ExactLimit + 500;
        var vectors = TestVectors.Unit(count, 16, seed: 8);
        var index = Build(vectors);
        index.Remove(42);

        var (row, _) = index.Search(vectors[42], nowMs: 0);

        Assert.NotEqual(42, row);
        Assert.True(row >= 0);
    }

    [Fact]
    public void A_vector_of_another_length_is_refused()
    {
        var index = new ScopeIndex(8);

        Assert.Throws<ArgumentException>(() => index.Add("x", new float[9], Never));
        Assert.Equal((-1, -1f), index.Search(new float[9], 0));
    }

    private static ScopeIndex Build(float[][] vectors)
    {
        var index = new ScopeIndex(vectors[0].Length);
        for (var i = 0; i < vectors.Length; i++)
        {
            index.Add("e" + i, vectors[i], Never);
        }

        return index;
    }
}
