using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Proxy.LoadTest;

/// <summary>What one run measured; printed as a human line and as <c>LOADJSON {...}</c>.</summary>
internal sealed class LoadResult
{
    public required string Mode { get; init; }

    public required string Url { get; init; }

    public long Requests { get; init; }

    public long Errors { get; init; }

    /// <summary>Requests completed including the warm-up: the denominator for CPU per request of a whole run.</summary>
    public long AllRequests { get; init; }

    public double Seconds { get; init; }

    public double Rps { get; init; }

    public double P50Ms { get; init; }

    public double P90Ms { get; init; }

    public double P99Ms { get; init; }

    public double MaxMs { get; init; }

    public int Connections { get; init; }

    public int PromptChars { get; init; }

    /// <summary>Mode-specific numbers (rate: send_*; stream: ttfb_*, total_*, reads_*).</summary>
    public Dictionary<string, double> Extra { get; } = new(StringComparer.Ordinal);

    public string ToHumanLine()
    {
        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture, $"{Mode} {Url}: {Requests} requests, {Errors} errors in {Seconds:F1} s = {Rps:F0} req/s; ");
        line.Append(CultureInfo.InvariantCulture, $"p50 {P50Ms:F2} ms, p90 {P90Ms:F2} ms, p99 {P99Ms:F2} ms, max {MaxMs:F2} ms");
        if (Extra.TryGetValue("ttfb_p50_ms", out var ttfb))
        {
            line.Append(CultureInfo.InvariantCulture, $"; TTFB p50 {ttfb:F2} ms, p99 {Extra["ttfb_p99_ms"]:F2} ms, reads p50 {Extra["reads_p50"]:F0}");
        }

        if (Extra.TryGetValue("send_p50_ms", out var send))
        {
            line.Append(CultureInfo.InvariantCulture, $"; from send: p50 {send:F2} ms, p99 {Extra["send_p99_ms"]:F2} ms");
        }

        return line.ToString();
    }

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("mode", Mode);
            json.WriteString("url", Url);
            json.WriteNumber("requests", Requests);
            json.WriteNumber("errors", Errors);
            json.WriteNumber("all_requests", AllRequests);
            json.WriteNumber("seconds", Round(Seconds));
            json.WriteNumber("rps", Round(Rps));
            json.WriteNumber("p50_ms", Round(P50Ms));
            json.WriteNumber("p90_ms", Round(P90Ms));
            json.WriteNumber("p99_ms", Round(P99Ms));
            json.WriteNumber("max_ms", Round(MaxMs));
            json.WriteNumber("connections", Connections);
            json.WriteNumber("prompt_chars", PromptChars);
            foreach (var (name, value) in Extra)
            {
                json.WriteNumber(name, Round(value));
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static double Round(double value) => Math.Round(value, 3);
}
