namespace Proxy.Transforms.Protocols;

/// <summary>Where a JSON value sits in the span it was read from: [Start, End). Default means absent.</summary>
internal readonly record struct ValueRange(int Start, int End)
{
    public bool IsSet => End > 0;

    public int Length => End - Start;

    public ReadOnlySpan<byte> Of(ReadOnlySpan<byte> source) => source[Start..End];
}
