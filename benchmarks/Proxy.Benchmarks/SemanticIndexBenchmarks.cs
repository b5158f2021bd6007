using BenchmarkDotNet.Attributes;
using Proxy.Transforms.Caching.Semantic.Index;

namespace Proxy.Benchmarks;

/// <summary>
/// The semantic cache's index lookup on the request path (one scope, 384-dimension unit vectors): exact SIMD scan at
/// 1,024 entries (the bound), HNSW graph at 10,000 and 100,000. Clustered vectors (topics of 100 prompts); half the
/// queries are paraphrases of stored prompts, half new prompts on a known topic. Per-lookup percentiles and recall: <c>-- semantic-lookup</c> (<see cref="SemanticLookupBenchmark"/>).
/// </summary>
[MemoryDiagnoser]
public class SemanticIndexBenchmarks
{
    private const int Dimensions = 384;

    private ScopeIndex _index = null!;
    private float[][] _queries = [];
    private int _next;

    [Params(ScopeIndex.ExactLimit, 10_000, 100_000)]
    public int Entries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var (stored, topics) = SyntheticVectors.Clustered(Entries, Dimensions, seed: 1);
        _index = SyntheticVectors.Build(stored);
        _queries = SyntheticVectors.Queries(stored, topics, 1024, seed: 2);
    }

    [Benchmark]
    public float Lookup()
    {
        var query = _queries[_next++ & 1023];
        return _index.Search(query, nowMs: 0).Similarity;
    }
}
