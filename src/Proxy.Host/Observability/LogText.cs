using System.Text;

namespace Proxy.Host.Observability;

/// <summary>
/// Values from clients (a percent-decoded path) or admins (a key alias) written into a text log line: control
/// characters and Unicode line breaks become <c>\xNN</c> / <c>\uNNNN</c>, so a value can neither end the line nor forge
/// the next one. Text without them is returned as it is.
/// </summary>
internal static class LogText
{
    public static string Escape(string value)
    {
        foreach (var c in value)
        {
            if (NeedsEscape(c))
            {
                return EscapeSlow(value);
            }
        }

        return value;
    }

    private static bool NeedsEscape(char c) => c < ' ' || c == '\x7f' || c is '\u0085' or '\u2028' or '\u2029';

    private static string EscapeSlow(string value)
    {
        var text = new StringBuilder(value.Length + 16);
        foreach (var c in value)
        {
            if (!NeedsEscape(c))
            {
                text.Append(c);
            }
            else if (c <= '\xff')
            {
                text.Append("\\x").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                text.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }
}
