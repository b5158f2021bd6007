using System.Globalization;
using System.Text;

namespace Proxy.Transforms.Guardrails;

/// <summary>
/// Python's <c>str()</c> of the small dicts LiteLLM puts in a guardrail error's message (single-quoted strings, floats
/// as <c>repr</c> prints them), so that clients comparing the text see LiteLLM's exact message.
/// </summary>
internal static class PythonRepr
{
    public static StringBuilder AppendString(this StringBuilder text, string value)
    {
        // repr() picks double quotes only when the text has a single quote and no double quote.
        var quote = value.Contains('\'', StringComparison.Ordinal) && !value.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        text.Append(quote);
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                default:
                    if (c == quote)
                    {
                        text.Append('\\');
                    }

                    text.Append(c);
                    break;
            }
        }

        return text.Append(quote);
    }

    /// <summary>A float as Python's repr: shortest round-trip digits, <c>1.0</c> not <c>1</c>, <c>1e-05</c> not <c>1E-05</c>.</summary>
    public static StringBuilder AppendFloat(this StringBuilder text, double value)
    {
        if (double.IsNaN(value))
        {
            return text.Append("nan");
        }

        if (double.IsInfinity(value))
        {
            return text.Append(value > 0 ? "inf" : "-inf");
        }

        var digits = value.ToString("R", CultureInfo.InvariantCulture);
        var e = digits.IndexOf('E', StringComparison.Ordinal);
        if (e >= 0)
        {
            // .NET and Python both switch to exponents below 1e-4; Python writes the sign and at least two digits.
            var mantissa = digits[..e];
            var exponent = int.Parse(digits.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            return text.Append(mantissa).Append('e').Append(exponent < 0 ? '-' : '+')
                .Append(Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture));
        }

        text.Append(digits);
        if (digits.AsSpan().IndexOfAny('.', 'n', 'i') < 0)
        {
            text.Append(".0");
        }

        return text;
    }
}
