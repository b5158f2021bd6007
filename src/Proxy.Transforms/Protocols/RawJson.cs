using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace Proxy.Transforms.Protocols;

/// <summary>
/// Writes hand-framed JSON to a buffer writer: literal fragments, integers, and values copied as raw tokens from a body
/// the reader has already validated (a string token with its quotes and escapes stays valid JSON as it is, so it is
/// copied, never unescaped and re-escaped). Used where one event is a fixed frame around a few copied values.
/// </summary>
internal static class RawJson
{
    public static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        var span = output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        output.Advance(bytes.Length);
    }

    public static void WriteInt(IBufferWriter<byte> output, long value)
    {
        var span = output.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var written);
        output.Advance(written);
    }

    /// <summary>The raw bytes of the value the reader is positioned on (a string with its quotes, a whole object or array after Skip).</summary>
    public static ReadOnlySpan<byte> ValueOf(scoped ref Utf8JsonReader reader, ReadOnlySpan<byte> source)
    {
        var start = (int)reader.TokenStartIndex;
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
        {
            reader.Skip();
            return source[start..(int)reader.BytesConsumed];
        }

        return source[start..(int)reader.BytesConsumed];
    }

    /// <summary>Writes <paramref name="text"/> (unescaped UTF-8) as a JSON string, escaping what must be escaped.</summary>
    public static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<byte> text)
    {
        Write(output, "\""u8);
        WriteEscaped(output, text);
        Write(output, "\""u8);
    }

    /// <summary>Writes <paramref name="text"/> (unescaped UTF-8) as the inside of a JSON string, without quotes.</summary>
    public static void WriteEscaped(IBufferWriter<byte> output, ReadOnlySpan<byte> text)
    {
        while (!text.IsEmpty)
        {
            // Runs that need no escape are copied at once; most text is one run.
            var special = text.IndexOfAny(Escaped);
            var run = special < 0 ? text : text[..special];
            Write(output, run);
            if (special < 0)
            {
                return;
            }

            WriteEscape(output, text[special]);
            text = text[(special + 1)..];
        }
    }

    private static readonly SearchValues<byte> Escaped = SearchValues.Create(
        [(byte)'"', (byte)'\\', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31]);

    private static void WriteEscape(IBufferWriter<byte> output, byte b)
    {
        var span = output.GetSpan(6);
        span[0] = (byte)'\\';
        var written = 2;
        switch (b)
        {
            case (byte)'"':
                span[1] = (byte)'"';
                break;
            case (byte)'\\':
                span[1] = (byte)'\\';
                break;
            case (byte)'\n':
                span[1] = (byte)'n';
                break;
            case (byte)'\r':
                span[1] = (byte)'r';
                break;
            case (byte)'\t':
                span[1] = (byte)'t';
                break;
            default:
                "u00"u8.CopyTo(span[1..]);
                span[4] = Hex(b >> 4);
                span[5] = Hex(b & 0xF);
                written = 6;
                break;
        }

        output.Advance(written);
    }

    private static byte Hex(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
}
