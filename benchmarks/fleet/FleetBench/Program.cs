using System.Diagnostics;
using System.Globalization;
using System.Text;
using FakeUpstream;
using FakeUpstream.Fleet;

namespace FleetBench;

/// <summary>
/// The fleet benchmark: 4 simulated vLLM engines (FakeUpstream's fleet mode, in this process), the real gateway as
/// separate processes in front of them, five routing strategies and five workloads, fixed seeds, one markdown report.
/// </summary>
internal static class Program
{
    private const int Engines = 4;

    public static async Task<int> Main(string[] args)
    {
        var dll = Arg(args, "--gateway") ?? throw new ArgumentException("--gateway path/to/Proxy.Host.dll is required");
        var output = Arg(args, "--out") ?? "fleet-bench.md";
        var scale = double.Parse(Arg(args, "--scale") ?? "1", CultureInfo.InvariantCulture);
        var seed = ulong.Parse(Arg(args, "--seed") ?? "20261201", CultureInfo.InvariantCulture);
        var only = Arg(args, "--only");
        var onlyStrategy = Arg(args, "--strategy");
        var onlyReplicas = Arg(args, "--replicas");
        var work = Path.Combine(Path.GetTempPath(), "fleet-bench-" + Environment.ProcessId);
        Directory.CreateDirectory(work);

        var simulator = new SimulatorOptions
        {
            CacheBlocks = 1024,
            BlockTokens = 16,
            MaxNumSeqs = 8,
            PrefillMicrosPerToken = 15,
            DecodeMillisPerToken = 2,
            DecodeMillisPerRunning = 0.25,
            TokensPerChunk = 8,
        };
        var engines = new List<FakeUpstreamServer>();
        for (var i = 0; i < Engines; i++)
        {
            engines.Add(await FakeUpstreamServer.StartAsync(new FakeUpstreamOptions { MaxModelLen = 1_000_000, ServedModel = "sim", Simulator = simulator }));
        }

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var runner = new Runner(http, engines);
        var strategies = Strategy.All;
        var results = new List<(Workload Workload, Strategy Strategy, int Replicas, RunResult Result)>();
        var wall = Stopwatch.StartNew();
        foreach (var (workload, replicas, strategy) in Plan(seed, scale, strategies))
        {
            if ((only is not null && !workload.Name.Contains(only, StringComparison.Ordinal))
                || (onlyStrategy is not null && !onlyStrategy.Split(',').Contains(strategy.Name))
                || (onlyReplicas is not null && !onlyReplicas.Split(',').Contains(replicas.ToString(CultureInfo.InvariantCulture))))
            {
                continue;
            }

            foreach (var engine in engines)
            {
                engine.Engine!.Reset();
            }

            var gateways = new List<GatewayProcess>();
            try
            {
                if (strategy.RoutingStrategy is not null)
                {
                    var config = Path.Combine(work, $"{strategy.Name}.yaml");
                    await File.WriteAllTextAsync(config, strategy.Config(engines));
                    for (var r = 0; r < replicas; r++)
                    {
                        gateways.Add(await GatewayProcess.StartAsync(dll, config, Path.Combine(work, $"{workload.Name}-{strategy.Name}-{replicas}-{r}.log"), http));
                    }
                }

                // JIT warm-up of each process (short prompts), so the first measured seconds are not the JIT's; then a
                // clean cache for the workload.
                foreach (var gateway in gateways)
                {
                    await runner.WarmUpAsync(gateway.Url, 60);
                }

                foreach (var engine in engines)
                {
                    engine.Engine!.Reset();
                }

                var started = wall.Elapsed;
                var result = await runner.RunAsync(workload, strategy.RoutingStrategy is null ? null : gateways.Select(g => g.Url).ToList(), seed, strategy.SessionIds);
                var decisions = await Decisions(http, gateways);
                result = result with { Decisions = decisions };
                results.Add((workload, strategy, replicas, result));
                Console.WriteLine(Report.Line(workload, strategy, replicas, result) + $"  {decisions} ({(wall.Elapsed - started).TotalSeconds:F0} s)");
            }
            finally
            {
                foreach (var gateway in gateways)
                {
                    await gateway.DisposeAsync();
                }
            }
        }

        foreach (var engine in engines)
        {
            await engine.DisposeAsync();
        }

        var text = Report.Markdown(results, simulator, seed, scale, wall.Elapsed, string.Join(' ', args));
        await File.WriteAllTextAsync(output, text);
        Console.WriteLine($"wrote {output} ({wall.Elapsed.TotalMinutes:F1} min)");
        return 0;
    }

    /// <summary>Every run, in order: each workload with every strategy on one gateway, then the multi-replica runs.</summary>
    private static IEnumerable<(Workload Workload, int Replicas, Strategy Strategy)> Plan(ulong seed, double scale, IReadOnlyList<Strategy> strategies)
    {
        int N(int count) => Math.Max(20, (int)(count * scale));
        Workload Documents() => new SharedDocuments(new SeededRandom(seed + 1), documents: 24, documentTokens: 2000, rate: 120, warmUp: N(150), measured: N(600));
        Workload Chats() => new MultiTurn(new SeededRandom(seed + 2), active: 64, rounds: 8, rate: 100, warmUp: N(150), measured: N(600));
        Workload Unique() => new UniquePrompts(rate: 100, warmUp: N(60), measured: N(400));
        Workload Hot() => new HotPrefix(new SeededRandom(seed + 4), rate: 120, warmUp: N(100), measured: N(600));
        foreach (var workload in (Func<Workload>[])[Documents, Chats, Unique, Hot])
        {
            foreach (var strategy in strategies)
            {
                yield return (workload(), 1, strategy);
            }
        }

        foreach (var workload in (Func<Workload>[])[Documents, Chats])
        {
            foreach (var replicas in (int[])[2, 4])
            {
                foreach (var strategy in strategies.Where(s => s.MultiReplica))
                {
                    yield return (workload(), replicas, strategy);
                }
            }
        }
    }

    /// <summary>The gateways' gateway_routing_decisions_total, summed over replicas (warm-up included): "home 120, prefix-hit 500".</summary>
    private static async Task<string> Decisions(HttpClient http, List<GatewayProcess> gateways)
    {
        var totals = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var gateway in gateways)
        {
            var text = await http.GetStringAsync(gateway.Url + "/metrics");
            foreach (var line in text.Split('\n'))
            {
                if (!line.StartsWith("gateway_routing_decisions_total{", StringComparison.Ordinal))
                {
                    continue;
                }

                var at = line.IndexOf("decision=\"", StringComparison.Ordinal) + 10;
                var decision = line[at..line.IndexOf('"', at)];
                totals[decision] = totals.GetValueOrDefault(decision) + double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return string.Join(", ", totals.Select(t => $"{t.Key} {t.Value:F0}"));
    }

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

/// <summary>A routing strategy as a gateway config (or the oracle, which needs no gateway).</summary>
internal sealed record Strategy(string Name, string? RoutingStrategy, string RouterExtra, bool SessionIds, bool MultiReplica)
{
    public static IReadOnlyList<Strategy> All { get; } =
    [
        new("simple-shuffle", "simple-shuffle", "", SessionIds: false, MultiReplica: false),
        // The stronger least-busy: running + waiting from vLLM's /metrics, not just this gateway's own count.
        new("least-busy", "least-busy", "  vllm_metrics_interval: 0.1\n", SessionIds: false, MultiReplica: true),
        new("session-affinity", "simple-shuffle", "  optional_pre_call_checks: [session_affinity]\n", SessionIds: true, MultiReplica: true),
        new("prefix-cache-aware", "prefix-cache-aware", "  vllm_metrics_interval: 0.05\n", SessionIds: false, MultiReplica: true),
        new("oracle", null, "", SessionIds: false, MultiReplica: false),
    ];

    public string Config(IReadOnlyList<FakeUpstreamServer> engines)
    {
        var yaml = new StringBuilder("model_list:\n");
        for (var i = 0; i < engines.Count; i++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"""
                  - model_name: fleet
                    litellm_params:
                      model: hosted_vllm/sim
                      api_base: {engines[i].BaseUrl}
                      timeout: 120
                    model_info:
                      id: e{i}

                """);
        }

        yaml.Append("router_settings:\n  routing_strategy: ").Append(RoutingStrategy).Append("\n  num_retries: 2\n").Append(RouterExtra)
            .Append("litellm_settings:\n  request_timeout: 120\n")
            .Append("general_settings:\n  master_key: ").Append(Runner.Key).Append("\n  disable_spend_logs: true\n");
        return yaml.ToString();
    }
}
