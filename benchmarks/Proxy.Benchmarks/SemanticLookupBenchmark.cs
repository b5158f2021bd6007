using System.Diagnostics;
using Proxy.Transforms.Caching.Semantic.Index;

namespace Proxy.Benchmarks;

/// <summary>
/// Per-lookup latency percentiles of the semantic cache index (BenchmarkDotNet reports means of batches, not a p99),
/// its recall@1 against an exact scan, and the time to build it, on one thread.
/// <code>dotnet run -c Release --project benchmarks/Proxy.Benchmarks -- semantic-lookup [--entries N] [--dimensions N] [--queries N] [--uniform]</code>
/// </summary>
internal static class SemanticLookupBenchmark
{
    public static int Run(string[] args)
    {
        var entries = Option(args, "--entries", 100_000);
        var dimensions = Option(args, "--dimensions", 384);
        var count = Option(args, "--queries", 20_000);
        var uniform = args.Contains("--uniform");
        var (stored, topics) = uniform ? (SyntheticVectors.Unit(entries, dimensions, seed: 1), null) : SyntheticVectors.Clustered(entries, dimensions, seed: 1);
        var build = Stopwatch.StartNew();
        var index = SyntheticVectors.Build(stored);
        build.Stop();
        var queries = SyntheticVectors.Queries(stored, topics, count, seed: 2);
        Console.WriteLine($"index: {entries:N0} entries x {dimensions} dims, built in {build.Elapsed.TotalSeconds:0.0} s " +
            $"({build.Elapsed.TotalMicroseconds / entries:0} us per insert), search: {(entries <= ScopeIndex.ExactLimit ? "exact" : "HNSW")}");

        // Warm-up: JIT tiers and caches.
        for (var i = 0; i < Math.Min(2000, count); i++)
        {
            index.Search(queries[i], 0);
        }

        var latencies = new double[count];
        var cpuTimes = new double[count];
        for (var i = 0; i < count; i++)
        {
            var cpuStart = ThreadCpuClock.NowNanoseconds();
            var start = Stopwatch.GetTimestamp();
            index.Search(queries[i], 0);
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            cpuTimes[i] = (ThreadCpuClock.NowNanoseconds() - cpuStart) / 1000.0;
        }

        Array.Sort(cpuTimes);

        Array.Sort(latencies);
        Console.WriteLine($"lookup over {count:N0} queries: p50 {Percentile(latencies, 50):0} us, p90 {Percentile(latencies, 90):0} us, " +
            $"p99 {Percentile(latencies, 99):0} us, p99.9 {Percentile(latencies, 99.9):0} us, max {latencies[^1]:0} us (wall clock)");
        if (ThreadCpuClock.Available)
        {
            Console.WriteLine($"lookup CPU time (this thread, so without waits for a core): p50 {Percentile(cpuTimes, 50):0} us, " +
                $"p90 {Percentile(cpuTimes, 90):0} us, p99 {Percentile(cpuTimes, 99):0} us, p99.9 {Percentile(cpuTimes, 99.9):0} us, max {cpuTimes[^1]:0} us");
        }

        var checkedQueries = Math.Min(count, 1000);
        int paraphrases = 0, paraphrasesFound = 0, agree = 0;
        for (var i = 0; i < checkedQueries; i++)
        {
            var exact = ExactBest(stored, queries[i]);
            var found = index.Search(queries[i], 0).Row;
            agree += found == exact ? 1 : 0;
            if (i % 2 == 0)
            {
                paraphrases++;
                paraphrasesFound += found == exact ? 1 : 0;
            }
        }

        Console.WriteLine($"recall@1 vs exact scan: paraphrases {paraphrasesFound}/{paraphrases}, all queries {agree}/{checkedQueries}");
        return 0;
    }

    private static int ExactBest(float[][] stored, float[] query)
    {
        var best = 0;
        var bestSimilarity = float.NegativeInfinity;
        for (var i = 0; i < stored.Length; i++)
        {
            var similarity = System.Numerics.Tensors.TensorPrimitives.Dot(stored[i], query);
            if (similarity > bestSimilarity)
            {
                bestSimilarity = similarity;
                best = i;
            }
        }

        return best;
    }

    private static double Percentile(double[] sorted, double percentile) =>
        sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(percentile / 100 * sorted.Length) - 1)];

    private static int Option(string[] args, string name, int fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    }
}
