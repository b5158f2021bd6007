using System.Text;

namespace Proxy.Transforms.Body;

/// <summary>
/// Writes a .NET string as a quoted JSON string in UTF-8 with only the escapes JSON requires, so the upstream
/// decodes exactly the same string (unlike the default encoder, which also escapes '+', '&lt;' and non-ASCII).
/// </summary>
internal static class JsonStringEscaper
{
    // Worst case is \uXXXX (6 bytes) for every UTF-16 unit, plus the quotes.
    public static int MaxQuotedLength(string value) => (value.Length * 6) + 2;

    public static int WriteQuoted(string value, Span<byte> destination)
    {
        var written = 0;
        destination[written++] = (byte)'"';
        var chars = value.AsSpan();
        var i = 0;
        while (i < chars.Length)
        {
            var c = chars[i];
            if (c < 0x80)
            {
                written += WriteAscii(c, destination[written..]);
                i++;
                continue;
            }

            if (Rune.DecodeFromUtf16(chars[i..], out var rune, out var consumed) == System.Buffers.OperationStatus.Done)
            {
                written += rune.EncodeToUtf8(destination[written..]);
                i += consumed;
                continue;
            }

            // A lone surrogate has no UTF-8 form; \uXXXX round-trips it for decoders that allow it.
            written += WriteUnicodeEscape(c, destination[written..]);
            i++;
        }

        destination[written++] = (byte)'"';
        return written;
    }

    private static int WriteAscii(char c, Span<byte> destination)
    {
        switch (c)
        {
            case '"':
            case '\\':
                destination[0] = (byte)'\\';
                destination[1] = (byte)c;
                return 2;
            case '\n':
                destination[0] = (byte)'\\';
                destination[1] = (byte)'n';
                return 2;
            case '\r':
                destination[0] = (byte)'\\';
                destination[1] = (byte)'r';
                return 2;
            case '\t':
                destination[0] = (byte)'\\';
                destination[1] = (byte)'t';
                return 2;
            default:
                if (c < 0x20)
                {
                    return WriteUnicodeEscape(c, destination);
                }

                destination[0] = (byte)c;
                return 1;
        }
    }

    private static int WriteUnicodeEscape(char c, Span<byte> destination)
    {
        destination[0] = (byte)'\\';
        destination[1] = (byte)'u';
        destination[2] = HexDigit(c >> 12);
        destination[3] = HexDigit(c >> 8);
        destination[4] = HexDigit(c >> 4);
        destination[5] = HexDigit(c);
        return 6;
    }

    private static byte HexDigit(int value)
    {
        var nibble = value & 0xF;
        return (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
    }
}
