using System.Globalization;

namespace Proxy.Admin.Keys;

/// <summary>LiteLLM's durations: <c>30s</c>, <c>30m</c>, <c>30h</c>, <c>30d</c>, <c>2w</c>, <c>1mo</c>.</summary>
public static class BudgetDuration
{
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        var unitStart = 0;
        while (unitStart < text.Length && (char.IsAsciiDigit(text[unitStart]) || text[unitStart] == '.'))
        {
            unitStart++;
        }

        if (unitStart == 0 || !double.TryParse(text.AsSpan(0, unitStart), NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n <= 0)
        {
            return false;
        }

        var unit = text[unitStart..];
        TimeSpan? result = unit switch
        {
            "s" => TimeSpan.FromSeconds(n),
            "m" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            "d" => TimeSpan.FromDays(n),
            "w" => TimeSpan.FromDays(7 * n),
            "mo" => TimeSpan.FromDays(30 * n),
            _ => null,
        };
        if (result is null)
        {
            return false;
        }

        duration = result.Value;
        return true;
    }
}
