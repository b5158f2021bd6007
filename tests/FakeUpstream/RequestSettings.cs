using System.Globalization;
using System.Text.Json;

namespace FakeUpstream;

/// <summary>The behaviour of one request: options, overridden by x-fake-* headers, overridden by fake_* body fields.</summary>
internal sealed class RequestSettings
{
    public TimeSpan Latency { get; private init; }

    public TimeSpan ChunkDelay { get; private init; }

    public int? Status { get; private init; }

    public int RetryAfterSeconds { get; private init; }

    public int? Tokens { get; private init; }

    public bool Hang { get; private init; }

    public bool Drop { get; private init; }

    public int? DropAfterChunks { get; private init; }

    public string? Content { get; private init; }

    public bool Guard { get; private init; }

    /// <summary>With tools in the request: answer with a call of the first tool (its arguments: <see cref="ToolArguments"/>).</summary>
    public bool ToolCall { get; private init; }

    public string ToolArguments { get; private init; } = "{\"city\": \"Paris\"}";

    /// <summary>vLLM's reasoning_content (a thinking block from the Anthropic fake) before the answer.</summary>
    public string? Reasoning { get; private init; }

    /// <summary>Anthropic streams: an error event of this type after the first text delta (e.g. overloaded_error).</summary>
    public string? StreamError { get; private init; }

    public static RequestSettings From(FakeUpstreamOptions options, IHeaderDictionary headers, JsonElement? body)
    {
        string? Raw(string name) => BodyValue(body, "fake_" + name) ?? HeaderValue(headers, "x-fake-" + name.Replace('_', '-'));

        return new RequestSettings
        {
            Latency = Millis(Raw("latency_ms")) ?? options.Latency,
            ChunkDelay = Millis(Raw("chunk_delay_ms")) ?? options.ChunkDelay,
            Status = Int(Raw("status")) ?? options.FailStatus,
            RetryAfterSeconds = Int(Raw("retry_after")) ?? options.RetryAfterSeconds,
            Tokens = Int(Raw("tokens")),
            Hang = Bool(Raw("hang")) ?? options.Hang,
            Drop = Bool(Raw("drop")) ?? options.DropConnection,
            DropAfterChunks = Int(Raw("drop_after_chunks")) ?? options.DropAfterChunks,
            Content = Raw("content") ?? options.FixedContent,
            Guard = Bool(Raw("guard")) ?? options.Guard,
            ToolCall = Bool(Raw("tool_call")) ?? false,
            ToolArguments = Raw("tool_arguments") ?? "{\"city\": \"Paris\"}",
            Reasoning = Raw("reasoning"),
            StreamError = Raw("stream_error"),
        };
    }

    private static string? HeaderValue(IHeaderDictionary headers, string name) =>
        headers.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;

    private static string? BodyValue(JsonElement? body, string name)
    {
        if (body is not { ValueKind: JsonValueKind.Object } obj || !obj.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        };
    }

    private static TimeSpan? Millis(string? raw) =>
        double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0 ? TimeSpan.FromMilliseconds(ms) : null;

    private static int? Int(string? raw) =>
        int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static bool? Bool(string? raw) => raw?.Trim().ToUpperInvariant() switch
    {
        null => null,
        "TRUE" or "1" or "YES" => true,
        "FALSE" or "0" or "NO" => false,
        _ => null,
    };
}
