using System.Globalization;

namespace Proxy.Host.Routing;

/// <summary>The vLLM gauges fleet routing reads, parsed from one <c>/metrics</c> page (Prometheus text format).</summary>
internal readonly record struct VllmGauges(int Running, int Waiting, double KvCacheUsage, int BlockSize, int GpuBlocks, bool Found, double StartTime = 0)
{
    /// <summary>
    /// Sums vllm:num_requests_running and vllm:num_requests_waiting over their series (one per engine with data parallel),
    /// takes the highest vllm:kv_cache_usage_perc (vllm:gpu_cache_usage_perc before vLLM V1) and reads block_size and
    /// num_gpu_blocks from vllm:cache_config_info's labels, and process_start_time_seconds. <see cref="Found"/> is false when
    /// the page has no vLLM gauge.
    /// </summary>
    public static VllmGauges Parse(string text)
    {
        double running = 0, waiting = 0, usage = 0, started = 0;
        int blockSize = 0, gpuBlocks = 0;
        var found = false;
        foreach (var range in text.AsSpan().Split('\n'))
        {
            var line = text.AsSpan(range.Start.Value, range.End.Value - range.Start.Value).Trim();
            if (line.IsEmpty || line[0] == '#')
            {
                continue;
            }

            if (line.StartsWith("process_start_time_seconds "))
            {
                // prometheus_client's process collector: changes when the engine restarts (and loses its cache).
                double.TryParse(line["process_start_time_seconds ".Length..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out started);
                continue;
            }

            if (!line.StartsWith("vllm:"))
            {
                continue;
            }

            var nameEnd = line.IndexOfAny('{', ' ');
            if (nameEnd < 0)
            {
                continue;
            }

            var name = line[..nameEnd];
            var labels = ReadOnlySpan<char>.Empty;
            var rest = line[nameEnd..];
            if (rest[0] == '{')
            {
                var close = rest.IndexOf('}');
                if (close < 0)
                {
                    continue;
                }

                labels = rest[1..close];
                rest = rest[(close + 1)..];
            }

            rest = rest.TrimStart();
            var space = rest.IndexOf(' ');
            var valueText = space < 0 ? rest : rest[..space];
            if (!double.TryParse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || double.IsNaN(value))
            {
                continue;
            }

            switch (name)
            {
                case "vllm:num_requests_running":
                    running += value;
                    found = true;
                    break;
                case "vllm:num_requests_waiting":
                    waiting += value;
                    found = true;
                    break;
                case "vllm:kv_cache_usage_perc" or "vllm:gpu_cache_usage_perc":
                    usage = Math.Max(usage, value);
                    found = true;
                    break;
                case "vllm:cache_config_info":
                    blockSize = IntLabel(labels, "block_size") ?? blockSize;
                    gpuBlocks = IntLabel(labels, "num_gpu_blocks") ?? gpuBlocks;
                    found = true;
                    break;
            }
        }

        return new VllmGauges(Clamp(running), Clamp(waiting), Math.Clamp(usage, 0, 1), blockSize, gpuBlocks, found, started);
    }

    private static int Clamp(double value) => (int)Math.Clamp(Math.Round(value), 0, int.MaxValue);

    /// <summary>The integer value of label <paramref name="name"/> in <c>a="1",b="2"</c>; null when absent or not a number.</summary>
    private static int? IntLabel(ReadOnlySpan<char> labels, string name)
    {
        while (!labels.IsEmpty)
        {
            var equals = labels.IndexOf('=');
            if (equals < 0 || equals + 1 >= labels.Length || labels[equals + 1] != '"')
            {
                return null;
            }

            var label = labels[..equals].Trim();
            var afterQuote = labels[(equals + 2)..];
            var endQuote = afterQuote.IndexOf('"');
            if (endQuote < 0)
            {
                return null;
            }

            if (label.SequenceEqual(name))
            {
                // vLLM writes some of these as floats ("16.0") or "None".
                return double.TryParse(afterQuote[..endQuote], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value is >= 1 and <= int.MaxValue
                    ? (int)value
                    : null;
            }

            labels = afterQuote[(endQuote + 1)..].TrimStart(',');
        }

        return null;
    }
}
