using System.Globalization;
using Proxy.Abstractions;
using Proxy.Admin.Ui;

namespace Proxy.Host.Hosting;

/// <summary>The admin UI's options from LiteLLM's environment variables.</summary>
internal static class UiSettings
{
    public static UiOptions From(Func<string, string?> getEnv, bool storeModelInDb) => new()
    {
        Enabled = !IsTrue(getEnv("DISABLE_ADMIN_UI")),
        Username = getEnv("UI_USERNAME") is { Length: > 0 } user ? user : "admin",
        Password = getEnv("UI_PASSWORD") is { Length: > 0 } password ? new Secret(password) : null,
        SessionDuration = Duration(getEnv("LITELLM_UI_SESSION_DURATION")) ?? TimeSpan.FromHours(24),
        StoreModelInDb = storeModelInDb,
    };

    private static bool IsTrue(string? value) => value is not null && (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value == "1");

    // LiteLLM's duration strings ("24h", "30m", "7d"); a bare number is seconds.
    private static TimeSpan? Duration(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        text = text.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds > 0 ? TimeSpan.FromSeconds(seconds) : null;
        }

        var unitStart = 0;
        while (unitStart < text.Length && (char.IsAsciiDigit(text[unitStart]) || text[unitStart] == '.'))
        {
            unitStart++;
        }

        if (unitStart == 0 || !double.TryParse(text.AsSpan(0, unitStart), NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n <= 0)
        {
            return null;
        }

        return text[unitStart..] switch
        {
            "s" => TimeSpan.FromSeconds(n),
            "m" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            "d" => TimeSpan.FromDays(n),
            "w" => TimeSpan.FromDays(7 * n),
            _ => null,
        };
    }
}
