using System.Diagnostics;
using System.Globalization;
using Proxy.Admin.Storage;

namespace Proxy.Benchmarks;

/// <summary>
/// The spend writer's database cost: CPU microseconds (this process, so SQLite's work included) and wall time per
/// spend-log row, written the way <c>SpendWriter</c> writes them (1,000-row transactions plus the key's spend update),
/// into an empty table and into one that already holds many rows.
/// <code>dotnet run -c Release --project benchmarks/Proxy.Benchmarks -- spend-store [--rows N] [--prefill N] [--database-url URL]</code>
/// Without --database-url it measures the embedded SQLite store in a temp folder.
/// </summary>
internal static class SpendStoreBenchmark
{
    private const int Batch = 1000;

    // --random-ids: random (v4) request ids instead of the time-ordered (v7) ones the gateway generates.
    private static bool Random;

    public static async Task<int> RunAsync(string[] args)
    {
        var rows = Option(args, "--rows", 50_000);
        var prefill = Option(args, "--prefill", 200_000);
        Random = args.Contains("--random-ids");
        var databaseUrl = args.SkipWhile(a => a != "--database-url").Skip(1).FirstOrDefault();
        var folder = Path.Combine(Path.GetTempPath(), "spend-bench-" + Guid.NewGuid().ToString("N"));
        IKeyStore store = databaseUrl is null
            ? new SqliteKeyStore(Path.Combine(folder, "gateway.db"), TimeSpan.FromSeconds(30))
            : new PostgresKeyStore(databaseUrl, TimeSpan.FromSeconds(30));
        try
        {
            await store.EnsureSchemaAsync(CancellationToken.None);
            var token = "bench-" + Guid.NewGuid().ToString("N");
            await store.InsertKeyAsync(new KeyRow { Token = token, KeyName = "sk-...bench", Models = "[]", Metadata = "{}" }, CancellationToken.None);
            Console.WriteLine($"store: {store.Kind}; batches of {Batch} rows + one key-spend update each");
            await MeasureAsync(store, token, Math.Min(rows, 20_000), "warm-up (empty table)");
            await MeasureAsync(store, token, prefill, $"fill to ~{prefill:N0} rows");
            await MeasureAsync(store, token, rows, $"measured ({rows:N0} rows on top)");
        }
        finally
        {
            (store as IDisposable)?.Dispose();
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }

        return 0;
    }

    private static async Task MeasureAsync(IKeyStore store, string token, int count, string label)
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        var batch = new List<SpendLogRow>(Batch);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var written = 0; written < count; written += Batch)
        {
            batch.Clear();
            for (var i = 0; i < Batch; i++)
            {
                batch.Add(Row(token, now + written + i));
            }

            await store.WriteSpendAsync(batch, [new KeySpendUpdate(token, 0.001, false, null)], CancellationToken.None);
        }

        wall.Stop();
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label,-34} {count,9:N0} rows  CPU {cpu.TotalMicroseconds / count,7:F1} us/row  wall {wall.Elapsed.TotalMicroseconds / count,7:F1} us/row"));
    }

    private static SpendLogRow Row(string token, long time) => new()
    {
        RequestId = (Random ? Guid.NewGuid() : Guid.CreateVersion7()).ToString(),
        CallType = "acompletion",
        ApiKey = token,
        KeyAlias = "bench",
        Spend = 0.0000123,
        PromptTokens = 260,
        CompletionTokens = 16,
        TotalTokens = 276,
        StartTime = time - 3,
        EndTime = time,
        Model = "fake-model",
        ModelId = "0123456789abcdef",
        ModelGroup = "fake-model",
        ApiBase = "http://127.0.0.1:18000/v1",
        Status = "success",
        LatencyMs = 3.2,
    };

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
