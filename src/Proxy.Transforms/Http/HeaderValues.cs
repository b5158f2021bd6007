using System.Text;

namespace Proxy.Transforms.Http;

/// <summary>
/// Response header values made from names an operator chose (a model group, a deployment id, an api_base): Kestrel
/// refuses a header value with a character outside printable ASCII, which would turn every request to a model named
/// in another script into a 500. Such a value is sent percent-encoded (UTF-8), as URLs carry it; printable ASCII is
/// sent as it is.
/// </summary>
public static class HeaderValues
{
    public static string? Safe(string? value)
    {
        if (value is null)
        {
            return null;
        }

        foreach (var c in value)
        {
            if (c is < ' ' or > '~')
            {
                return Encode(value);
            }
        }

        return value;
    }

    private static string Encode(string value)
    {
        var text = new StringBuilder(value.Length * 3);
        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is >= ' ' and <= '~' and not '%')
            {
                text.Append(c);
                continue;
            }

            var length = char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])
                ? Encoding.UTF8.GetBytes(value.AsSpan(i++, 2), bytes)
                : Encoding.UTF8.GetBytes(char.IsSurrogate(c) ? "\uFFFD" : c.ToString(), bytes);
            foreach (var b in bytes[..length])
            {
                text.Append('%').Append(((int)b).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }
}
