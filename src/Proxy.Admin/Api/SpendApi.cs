using System.Globalization;
using Microsoft.AspNetCore.Http;
using Proxy.Admin.Keys;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Api;

/// <summary>LiteLLM's <c>/spend/logs</c> and <c>/global/spend</c> (master key only), read from the store.</summary>
internal sealed class SpendApi(IKeyStore store, KeyApi keys)
{
    private const int MaxRows = 10_000;

    public Task LogsAsync(HttpContext context) => keys.RunAsync(context, adminOnly: true, async () =>
    {
        var query = context.Request.Query;
        var apiKey = query["api_key"].ToString();
        var request = new SpendLogQuery(
            apiKey.Length == 0 ? null : KeyHasher.TokenOf(apiKey),
            query["request_id"].ToString() is { Length: > 0 } id ? id : null,
            DayStart(query["start_date"]),
            DayStart(query["end_date"]) is { } end ? end + (long)TimeSpan.FromDays(1).TotalMilliseconds : null,
            MaxRows);
        var rows = await store.QuerySpendLogsAsync(request, context.RequestAborted);
        await KeyApi.WriteJsonAsync(context, json =>
        {
            json.WriteStartArray();
            foreach (var row in rows)
            {
                AdminJson.WriteSpendLog(json, row);
            }

            json.WriteEndArray();
        });
    });

    public Task GlobalAsync(HttpContext context) => keys.RunAsync(context, adminOnly: true, async () =>
    {
        var total = await store.TotalSpendAsync(context.RequestAborted);
        await KeyApi.WriteJsonAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteNumber("spend", total);
            json.WriteNumber("max_budget", 0);
            json.WriteEndObject();
        });
    });

    // LiteLLM's dates are YYYY-MM-DD (UTC days); end_date includes its whole day.
    private static long? DayStart(string? text) =>
        DateTime.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var day)
            ? new DateTimeOffset(day, TimeSpan.Zero).ToUnixTimeMilliseconds()
            : null;
}
