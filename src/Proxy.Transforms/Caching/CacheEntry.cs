using System.Buffers.Text;

namespace Proxy.Transforms.Caching;

/// <summary>
/// A stored answer as LiteLLM stores it: <c>{"timestamp":&lt;unix seconds&gt;,"response":&lt;the answer&gt;}</c>, so an
/// entry read with redis-cli is plain JSON. The answer is always the non-streamed form (a streamed answer is
/// assembled first); the gateway writes this exact layout and reads it without a JSON parse.
/// </summary>
public static class CacheEntry
{
    private static ReadOnlySpan<byte> Prefix => "{\"timestamp\":"u8;

    private static ReadOnlySpan<byte> ResponseMember => ",\"response\":"u8;

    public static byte[] Create(DateTimeOffset storedAt, ReadOnlySpan<byte> response)
    {
        Span<byte> number = stackalloc byte[32];
        var seconds = storedAt.ToUnixTimeMilliseconds() / 1000.0;
        Utf8Formatter.TryFormat(seconds, number, out var numberLength);
        var entry = new byte[Prefix.Length + numberLength + ResponseMember.Length + response.Length + 1];
        var span = entry.AsSpan();
        Prefix.CopyTo(span);
        var at = Prefix.Length;
        number[..numberLength].CopyTo(span[at..]);
        at += numberLength;
        ResponseMember.CopyTo(span[at..]);
        at += ResponseMember.Length;
        response.CopyTo(span[at..]);
        span[^1] = (byte)'}';
        return entry;
    }

    /// <summary>Splits an entry into its time and answer; false for anything the gateway did not write.</summary>
    public static bool TryRead(ReadOnlyMemory<byte> entry, out DateTimeOffset storedAt, out ReadOnlyMemory<byte> response)
    {
        storedAt = default;
        response = default;
        var span = entry.Span;
        if (!span.StartsWith(Prefix) || span.Length < Prefix.Length + ResponseMember.Length + 3 || span[^1] != (byte)'}')
        {
            return false;
        }

        if (!Utf8Parser.TryParse(span[Prefix.Length..], out double seconds, out var consumed))
        {
            return false;
        }

        var at = Prefix.Length + consumed;
        if (!span[at..].StartsWith(ResponseMember))
        {
            return false;
        }

        at += ResponseMember.Length;
        storedAt = DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000));
        response = entry[at..^1];
        return true;
    }
}
