using System.Buffers.Text;

namespace Proxy.Transforms.Usage;

/// <summary>
/// Reads what rerank and audio answers are billed by from the start and the end of the answer: Cohere's
/// <c>meta.billed_units.search_units</c>, a rerank's <c>usage.total_tokens</c> (vLLM sends no prompt_tokens there),
/// and an audio answer's length (<c>duration</c> in verbose_json, which vLLM sends as a string, or
/// <c>usage.seconds</c>). Member names are matched with their quotes, which inside a JSON string would be escaped.
/// </summary>
internal static class BilledUnits
{
    public static double? Number(ReadOnlySpan<byte> json, ReadOnlySpan<byte> quotedName)
    {
        var at = json.IndexOf(quotedName);
        if (at < 0)
        {
            return null;
        }

        var rest = json[(at + quotedName.Length)..];
        var colon = rest.IndexOfAnyExcept(" \t\r\n"u8);
        if (colon < 0 || rest[colon] != (byte)':')
        {
            return null;
        }

        rest = rest[(colon + 1)..];
        var start = rest.IndexOfAnyExcept(" \t\r\n"u8);
        if (start < 0)
        {
            return null;
        }

        rest = rest[start..];
        if (rest[0] == (byte)'"')
        {
            // "duration": "12.5" in vLLM's verbose_json.
            rest = rest[1..];
        }

        return Utf8Parser.TryParse(rest, out double value, out _) && value >= 0 && double.IsFinite(value) ? value : null;
    }
}
