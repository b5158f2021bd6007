using System.Globalization;
using System.Text;
using FakeUpstream.Fleet;

namespace FleetBench;

/// <summary>The numbers of a run, and the report with the acceptance checks computed from them.</summary>
internal static class Report
{
    public static string Line(Workload workload, Strategy strategy, int replicas, RunResult result)
    {
        var s = Stats.Of(result);
        return string.Create(CultureInfo.InvariantCulture,
            $"{workload.Name,-14} {strategy.Name,-19} x{replicas}  hit {s.HitRate:P1}  ttft p50 {s.P50,6:F0} p90 {s.P90,6:F0} p99 {s.P99,6:F0} ms  {s.Throughput,5:F1} req/s  load max/mean {s.LoadImbalance:F2}  errors {s.Errors}");
    }

    public static string Markdown(List<(Workload Workload, Strategy Strategy, int Replicas, RunResult Result)> results, SimulatorOptions simulator, ulong seed, double scale,
        TimeSpan wall, string args)
    {
        var text = new StringBuilder();
        text.AppendLine("# Fleet routing benchmark").AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Command: `benchmarks/fleet/run.sh {args}` (seed {seed}, scale {scale}); wall time {wall.TotalMinutes:F1} min.");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"4 simulated vLLM engines (FakeUpstream fleet mode): {simulator.CacheBlocks} KV blocks x {simulator.BlockTokens} tokens each, max_num_seqs {simulator.MaxNumSeqs}, prefill {simulator.PrefillMicrosPerToken} us per uncached token (one prefill at a time), decode {simulator.DecodeMillisPerToken} ms + {simulator.DecodeMillisPerRunning} ms x running per token, 32 output tokens, streamed.");
        text.AppendLine("The gateway runs as real processes (`dotnet Proxy.Host.dll`); with 2 or 4 replicas the client picks one at random per request. The oracle reads each engine's true cache and load and sends straight to the engine. TTFT is measured at the client (first content token); load is the engines' running + waiting, sampled every 50 ms; hit rate is cached / prompt tokens from the engines' usage.");
        text.AppendLine();
        foreach (var group in results.GroupBy(r => r.Workload.Name))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"## {group.Key}: {group.First().Workload.Description}, {group.First().Workload.Rate} req/s offered").AppendLine();
            text.AppendLine("| strategy | replicas | token hit rate | % of oracle | TTFT p50 ms | p90 ms | p99 ms | req/s | output tok/s | max/mean load | errors |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            var oracle = group.Where(r => r.Strategy.Name == "oracle").Select(r => Stats.Of(r.Result).HitRate).DefaultIfEmpty(double.NaN).First();
            foreach (var (_, strategy, replicas, result) in group)
            {
                var s = Stats.Of(result);
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {strategy.Name} | {replicas} | {s.HitRate:P1} | {s.HitRate / oracle:P0} | {s.P50:F0} | {s.P90:F0} | {s.P99:F0} | {s.Throughput:F1} | {s.OutputTokens:F0} | {s.LoadImbalance:F2} | {s.Errors} |");
            }

            text.AppendLine();
        }

        text.AppendLine("## Acceptance checks (issue #16)").AppendLine();
        foreach (var check in Checks(results))
        {
            text.AppendLine(check);
        }

        return text.ToString();
    }

    private static IEnumerable<string> Checks(List<(Workload Workload, Strategy Strategy, int Replicas, RunResult Result)> results)
    {
        Stats? Find(string workload, string strategy, int replicas = 1)
        {
            var match = results.FirstOrDefault(r => r.Workload.Name == workload && r.Strategy.Name == strategy && r.Replicas == replicas);
            return match.Result is null ? null : Stats.Of(match.Result);
        }

        string Verdict(bool pass) => pass ? "PASS" : "FAIL";
        foreach (var workload in (string[])["shared-prefix", "multi-turn"])
        {
            var prefix = Find(workload, "prefix-cache-aware");
            var oracle = Find(workload, "oracle");
            var shuffle = Find(workload, "simple-shuffle");
            var busy = Find(workload, "least-busy");
            if (prefix is null || oracle is null || shuffle is null || busy is null)
            {
                continue;
            }

            yield return Invariant($"- {workload}: hit rate {prefix.HitRate:P1} = {prefix.HitRate / oracle.HitRate:P0} of the oracle's {oracle.HitRate:P1} (>= 90 %): {Verdict(prefix.HitRate >= 0.9 * oracle.HitRate)}");
            yield return Invariant($"- {workload}: TTFT p90 {prefix.P90:F0} ms vs simple-shuffle {shuffle.P90:F0} ms ({1 - (prefix.P90 / shuffle.P90):P0} lower) and least-busy {busy.P90:F0} ms ({1 - (prefix.P90 / busy.P90):P0} lower) (>= 30 % lower than both): {Verdict(prefix.P90 <= 0.7 * shuffle.P90 && prefix.P90 <= 0.7 * busy.P90)}");
            if (Find(workload, "prefix-cache-aware", 4) is { } four)
            {
                yield return Invariant($"- {workload}: 1 -> 4 gateway replicas: hit rate {prefix.HitRate:P1} -> {four.HitRate:P1} ({(prefix.HitRate - four.HitRate) * 100:F1} points; <= 3): {Verdict(prefix.HitRate - four.HitRate <= 0.03)}");
            }
        }

        if (Find("unique", "prefix-cache-aware") is { } u && Find("unique", "least-busy") is { } ub)
        {
            yield return Invariant($"- unique: TTFT p50 {u.P50:F0} vs {ub.P50:F0} ms, p90 {u.P90:F0} vs {ub.P90:F0} ms, {u.Throughput:F1} vs {ub.Throughput:F1} req/s against least-busy (within 5 %): {Verdict(u.P90 <= 1.05 * ub.P90 && u.P50 <= 1.05 * ub.P50 && u.Throughput >= 0.95 * ub.Throughput)}");
        }

        if (Find("hot-prefix", "prefix-cache-aware") is { } h && Find("hot-prefix", "least-busy") is { } hb)
        {
            yield return Invariant($"- hot-prefix: max/mean load {h.LoadImbalance:F2} (<= 1.25): {Verdict(h.LoadImbalance <= 1.25)}; TTFT p99 {h.P99:F0} ms vs least-busy {hb.P99:F0} ms (not above): {Verdict(h.P99 <= hb.P99)}");
        }
    }

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
}

/// <summary>Summary statistics of one run's measured requests.</summary>
internal sealed record Stats(double HitRate, double P50, double P90, double P99, double Throughput, double OutputTokens, double LoadImbalance, int Errors)
{
    public static Stats Of(RunResult result)
    {
        var ok = result.Outcomes.Where(o => o.Ok).ToList();
        var ttft = ok.Select(o => o.TtftMs).Order().ToArray();
        var prompt = ok.Sum(o => (long)o.Prompt);
        var loads = result.MeanLoads;
        var mean = loads.Length == 0 ? 0 : loads.Average();
        return new Stats(
            prompt == 0 ? 0 : (double)ok.Sum(o => (long)o.Cached) / prompt,
            Percentile(ttft, 0.50), Percentile(ttft, 0.90), Percentile(ttft, 0.99),
            ok.Count / result.MeasuredSeconds,
            ok.Sum(o => (long)o.Completion) / result.MeasuredSeconds,
            mean > 0 ? loads.Max() / mean : 0,
            result.Outcomes.Count - ok.Count);
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
