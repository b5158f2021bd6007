#pragma warning disable CA1050 // The runtime looks for a type named StartupHook outside any namespace.
using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Text;

/// <summary>
/// Loaded by the runtime before Main when DOTNET_STARTUP_HOOKS names this assembly. Every second it writes the process's
/// cumulative allocated bytes and GC counts to $ALLOC_PROBE_OUT/alloc.tsv (replaced atomically), so a script can diff two
/// copies taken around a measured phase. With ALLOC_PROBE_TYPES=1 it also sums the runtime's AllocationTick events
/// (one per ~100 KB allocated, naming the type of the object that crossed the mark) per type: a sampled breakdown.
/// </summary>
internal static class StartupHook
{
    private static Timer? s_timer;
    private static TickListener? s_listener;

    public static void Initialize()
    {
        var dir = Environment.GetEnvironmentVariable("ALLOC_PROBE_OUT");
        if (string.IsNullOrEmpty(dir))
        {
            return;
        }

        Directory.CreateDirectory(dir);
        if (Environment.GetEnvironmentVariable("ALLOC_PROBE_TYPES") == "1")
        {
            s_listener = new TickListener();
        }

        var path = Path.Combine(dir, "alloc.tsv");
        s_timer = new Timer(_ => Write(path), null, TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }

    private static void Write(string path)
    {
        var text = new StringBuilder();
        text.Append("total\t").Append(GC.GetTotalAllocatedBytes(precise: false).ToString(CultureInfo.InvariantCulture)).Append('\n');
        for (var gen = 0; gen <= 2; gen++)
        {
            text.Append("gc").Append(gen).Append('\t').Append(GC.CollectionCount(gen).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        text.Append("pause_ms\t").Append(GC.GetTotalPauseDuration().TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture)).Append('\n');
        if (s_listener is { } listener)
        {
            foreach (var (type, bytes) in listener.Bytes)
            {
                text.Append("type\t").Append(bytes.ToString(CultureInfo.InvariantCulture)).Append('\t').Append(type).Append('\n');
            }
        }

        var temp = path + ".tmp";
        File.WriteAllText(temp, text.ToString());
        File.Move(temp, path, overwrite: true);
    }

    private sealed class TickListener : EventListener
    {
        public ConcurrentDictionary<string, long> Bytes { get; } = new();

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
            {
                // GC keyword at Verbose: AllocationTick events.
                EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null || e.PayloadNames is null)
            {
                return;
            }

            string? type = null;
            long amount = 0;
            for (var i = 0; i < e.PayloadNames.Count; i++)
            {
                switch (e.PayloadNames[i])
                {
                    case "TypeName":
                        type = e.Payload[i] as string;
                        break;
                    case "AllocationAmount64":
                        amount = Convert.ToInt64(e.Payload[i], CultureInfo.InvariantCulture);
                        break;
                }
            }

            Bytes.AddOrUpdate(type ?? "?", amount, (_, old) => old + amount);
        }
    }
}
