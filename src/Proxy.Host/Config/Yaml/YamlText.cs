using System.Globalization;
using System.Numerics;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Proxy.Host.Config.Yaml;

/// <summary>
/// Scalar typing and text rendering with PyYAML's (YAML 1.1) rules, so that what we derive from raw values (deployment
/// ids, extra keys) matches what LiteLLM derives from the same file.
/// </summary>
internal static class YamlText
{
    private static readonly HashSet<string> TrueWords = new(StringComparer.Ordinal)
    {
        "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
    };

    private static readonly HashSet<string> FalseWords = new(StringComparer.Ordinal)
    {
        "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
    };

    public static int Line(YamlNode node) => (int)Math.Min(node.Start.Line, int.MaxValue);

    public static bool IsPlain(YamlScalarNode node) => node.Style is ScalarStyle.Plain or ScalarStyle.Any;

    public static bool IsNull(YamlScalarNode node) =>
        IsPlain(node) && node.Value is null or "" or "~" or "null" or "Null" or "NULL";

    /// <summary>"a list", "a map" or the quoted scalar; secret-bearing paths never show the value.</summary>
    public static string Describe(YamlNode node, bool secret, string? envName)
    {
        return node switch
        {
            YamlSequenceNode => "a list",
            YamlMappingNode => "a map",
            YamlScalarNode when envName is not null => $"the value of os.environ/{envName}",
            YamlScalarNode when secret => "a value that is not shown (secret)",
            YamlScalarNode scalar => "\"" + (scalar.Value ?? string.Empty) + "\"",
            _ => "an unsupported node",
        };
    }

    /// <summary>YAML 1.1 boolean words (PyYAML accepts yes/no/on/off in any of three casings).</summary>
    public static bool? ParseBool(string text)
    {
        if (TrueWords.Contains(text))
        {
            return true;
        }

        return FalseWords.Contains(text) ? false : null;
    }

    /// <summary>Python's <c>str(value)</c> of the value PyYAML would load from this node.</summary>
    public static string PythonStr(YamlNode node)
    {
        if (node is YamlScalarNode scalar)
        {
            return ScalarPython(scalar, repr: false);
        }

        var builder = new StringBuilder();
        if (node is YamlMappingNode)
        {
            // LiteLLM renders dict values with json.dumps (default separators, ensure_ascii)
            WriteJson(builder, node, pythonStyle: true, resolve: null);
        }
        else
        {
            WritePythonRepr(builder, node);
        }

        return builder.ToString();
    }

    /// <summary>Compact JSON of a node; <paramref name="resolve"/> maps scalar text (e.g. os.environ/ lookup).</summary>
    public static string Json(YamlNode node, Func<YamlScalarNode, string?>? resolve)
    {
        var builder = new StringBuilder();
        WriteJson(builder, node, pythonStyle: false, resolve);
        return builder.ToString();
    }

    private static void WriteJson(StringBuilder builder, YamlNode node, bool pythonStyle, Func<YamlScalarNode, string?>? resolve)
    {
        var comma = pythonStyle ? ", " : ",";
        var colon = pythonStyle ? ": " : ":";
        switch (node)
        {
            case YamlMappingNode map:
                builder.Append('{');
                var firstKey = true;
                foreach (var (key, value) in map.Children)
                {
                    if (!firstKey)
                    {
                        builder.Append(comma);
                    }

                    firstKey = false;
                    WriteJsonString(builder, key is YamlScalarNode k ? k.Value ?? string.Empty : string.Empty);
                    builder.Append(colon);
                    WriteJson(builder, value, pythonStyle, resolve);
                }

                builder.Append('}');
                break;
            case YamlSequenceNode sequence:
                builder.Append('[');
                var firstItem = true;
                foreach (var item in sequence.Children)
                {
                    if (!firstItem)
                    {
                        builder.Append(comma);
                    }

                    firstItem = false;
                    WriteJson(builder, item, pythonStyle, resolve);
                }

                builder.Append(']');
                break;
            case YamlScalarNode scalar:
                WriteJsonScalar(builder, scalar, resolve);
                break;
            default:
                builder.Append("null");
                break;
        }
    }

    private static void WriteJsonScalar(StringBuilder builder, YamlScalarNode scalar, Func<YamlScalarNode, string?>? resolve)
    {
        if (resolve is not null && !IsNull(scalar))
        {
            var resolved = resolve(scalar);
            if (!string.Equals(resolved, scalar.Value, StringComparison.Ordinal))
            {
                if (resolved is null)
                {
                    builder.Append("null");
                }
                else
                {
                    WriteJsonString(builder, resolved);
                }

                return;
            }
        }

        var text = scalar.Value ?? string.Empty;
        if (IsPlain(scalar))
        {
            if (IsNull(scalar))
            {
                builder.Append("null");
                return;
            }

            if (ParseBool(text) is { } flag)
            {
                builder.Append(flag ? "true" : "false");
                return;
            }

            if (TryPythonInt(text, out var integer))
            {
                builder.Append(integer);
                return;
            }

            if (TryPythonFloat(text, out var number))
            {
                builder.Append(FloatRepr(number));
                return;
            }
        }

        WriteJsonString(builder, text);
    }

    private static void WriteJsonString(StringBuilder builder, string text)
    {
        builder.Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7e)
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        builder.Append('"');
    }

    private static void WritePythonRepr(StringBuilder builder, YamlNode node)
    {
        switch (node)
        {
            case YamlSequenceNode sequence:
                builder.Append('[');
                var first = true;
                foreach (var item in sequence.Children)
                {
                    if (!first)
                    {
                        builder.Append(", ");
                    }

                    first = false;
                    WritePythonRepr(builder, item);
                }

                builder.Append(']');
                break;
            case YamlMappingNode map:
                builder.Append('{');
                var firstKey = true;
                foreach (var (key, value) in map.Children)
                {
                    if (!firstKey)
                    {
                        builder.Append(", ");
                    }

                    firstKey = false;
                    WritePythonRepr(builder, key);
                    builder.Append(": ");
                    WritePythonRepr(builder, value);
                }

                builder.Append('}');
                break;
            case YamlScalarNode scalar:
                builder.Append(ScalarPython(scalar, repr: true));
                break;
            default:
                builder.Append("None");
                break;
        }
    }

    private static string ScalarPython(YamlScalarNode scalar, bool repr)
    {
        var text = scalar.Value ?? string.Empty;
        if (IsPlain(scalar))
        {
            if (IsNull(scalar))
            {
                return "None";
            }

            if (ParseBool(text) is { } flag)
            {
                return flag ? "True" : "False";
            }

            if (TryPythonInt(text, out var integer))
            {
                return integer.ToString(CultureInfo.InvariantCulture);
            }

            if (TryPythonFloat(text, out var number))
            {
                return FloatRepr(number);
            }
        }

        return repr ? StringRepr(text) : text;
    }

    private static string StringRepr(string text)
    {
        var quote = text.Contains('\'', StringComparison.Ordinal) && !text.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        var builder = new StringBuilder(text.Length + 2).Append(quote);
        foreach (var c in text)
        {
            if (c == quote || c == '\\')
            {
                builder.Append('\\').Append(c);
            }
            else if (c == '\n')
            {
                builder.Append("\\n");
            }
            else if (c == '\r')
            {
                builder.Append("\\r");
            }
            else if (c == '\t')
            {
                builder.Append("\\t");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.Append(quote).ToString();
    }

    // PyYAML int: [-+]?(0|[1-9][0-9_]*)
    private static bool TryPythonInt(string text, out BigInteger value)
    {
        value = default;
        var start = text.Length > 0 && (text[0] == '-' || text[0] == '+') ? 1 : 0;
        if (start >= text.Length)
        {
            return false;
        }

        if (text[start] == '0' && text.Length > start + 1)
        {
            return false;
        }

        for (var i = start; i < text.Length; i++)
        {
            if (!char.IsAsciiDigit(text[i]) && !(text[i] == '_' && i > start))
            {
                return false;
            }
        }

        return BigInteger.TryParse(text.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    // PyYAML float: [-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)? plus .inf/.nan; a dot is required
    private static bool TryPythonFloat(string text, out double value)
    {
        value = 0;
        var lower = text.ToLowerInvariant();
        switch (lower)
        {
            case ".inf" or "+.inf":
                value = double.PositiveInfinity;
                return true;
            case "-.inf":
                value = double.NegativeInfinity;
                return true;
            case ".nan":
                value = double.NaN;
                return true;
        }

        if (!text.Contains('.', StringComparison.Ordinal))
        {
            return false;
        }

        return double.TryParse(text.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Python's <c>repr(float)</c>: shortest round-trip digits, scientific below 1e-4 or from 1e16.</summary>
    public static string FloatRepr(double value)
    {
        if (double.IsNaN(value))
        {
            return "nan";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "inf" : "-inf";
        }

        if (value == 0)
        {
            return double.IsNegative(value) ? "-0.0" : "0.0";
        }

        // "R" gives the shortest round-trip digits, as Python does; only the layout differs
        var shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var (digits, exponent) = SplitDigits(shortest);
        var sign = value < 0 ? "-" : string.Empty;
        if (exponent >= -4 && exponent < 16)
        {
            string body;
            if (exponent >= digits.Length - 1)
            {
                body = digits + new string('0', exponent - digits.Length + 1) + ".0";
            }
            else if (exponent >= 0)
            {
                body = digits[..(exponent + 1)] + "." + digits[(exponent + 1)..];
            }
            else
            {
                body = "0." + new string('0', -exponent - 1) + digits;
            }

            return sign + body;
        }

        var mantissa = digits.Length == 1 ? digits : digits[0] + "." + digits[1..];
        var expSign = exponent < 0 ? "-" : "+";
        return sign + mantissa + "e" + expSign + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
    }

    // "2.8E-06" → ("28", -6); "3000" → ("3", 3); "0.5" → ("5", -1)
    private static (string Digits, int Exponent) SplitDigits(string text)
    {
        var exponent = 0;
        var e = text.IndexOfAny(['E', 'e']);
        var mantissa = text;
        if (e >= 0)
        {
            exponent = int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            mantissa = text[..e];
        }

        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var intPart = dot >= 0 ? mantissa[..dot] : mantissa;
        var fracPart = dot >= 0 ? mantissa[(dot + 1)..] : string.Empty;
        var all = intPart + fracPart;
        var leadingZeros = 0;
        while (leadingZeros < all.Length - 1 && all[leadingZeros] == '0')
        {
            leadingZeros++;
        }

        var digits = all[leadingZeros..].TrimEnd('0');
        if (digits.Length == 0)
        {
            digits = "0";
        }

        // position of the first significant digit relative to the decimal point
        exponent += intPart.Length - 1 - leadingZeros;
        return (digits, exponent);
    }
}
