namespace Proxy.Transforms.Protocols;

/// <summary>The two fields of one server-sent event the translators read: its <c>event:</c> name and its <c>data:</c>.</summary>
internal readonly ref struct SseEvent
{
    public SseEvent(ReadOnlySpan<byte> name, ReadOnlySpan<byte> data, bool hasName)
    {
        Name = name;
        Data = data;
        HasName = hasName;
    }

    public ReadOnlySpan<byte> Name { get; }

    public ReadOnlySpan<byte> Data { get; }

    /// <summary>The event had an <c>event:</c> line (Anthropic's framing; OpenAI streams send data lines only).</summary>
    public bool HasName { get; }

    /// <summary>
    /// Reads the event's fields. Only the first data line is kept: JSON events are one line, and the servers these
    /// translators read never split one over several.
    /// </summary>
    public static SseEvent Parse(ReadOnlySpan<byte> lines)
    {
        ReadOnlySpan<byte> name = default;
        ReadOnlySpan<byte> data = default;
        var hasName = false;
        var hasData = false;
        while (!lines.IsEmpty)
        {
            var newline = lines.IndexOf((byte)'\n');
            var line = newline < 0 ? lines : lines[..newline];
            lines = newline < 0 ? default : lines[(newline + 1)..];
            line = line.TrimEnd((byte)'\r');
            if (!hasData && line.StartsWith("data:"u8))
            {
                data = Value(line[5..]);
                hasData = true;
            }
            else if (!hasName && line.StartsWith("event:"u8))
            {
                name = Value(line[6..]);
                hasName = true;
            }
        }

        return new SseEvent(name, data, hasName);
    }

    // One optional space after the colon belongs to the framing.
    private static ReadOnlySpan<byte> Value(ReadOnlySpan<byte> rest) => !rest.IsEmpty && rest[0] == (byte)' ' ? rest[1..] : rest;
}
