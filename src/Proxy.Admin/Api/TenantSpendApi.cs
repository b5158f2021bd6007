using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Admin.Storage;
using Proxy.Admin.Tenants;

namespace Proxy.Admin.Api;

/// <summary>
/// Spend reports per team, user, customer and model group: totals from the live directory, per-day figures from the
/// spend log (grouped in the database, so a long history is never read into memory).
/// </summary>
internal sealed class TenantSpendApi(ITenantStore store, TenantDirectory directory, TenantApiSupport api)
{
    private const long Day = 86_400_000;

    public Task TeamsAsync(HttpContext context) => api.RunAsync(context, () => TenantApiSupport.JsonAsync(context, json =>
    {
        json.WriteStartArray();
        foreach (var team in directory.Teams.OrderByDescending(t => t.Spend.Value))
        {
            json.WriteStartObject();
            json.WriteString("team_id", team.Id);
            AdminJson.WriteNullable(json, "team_alias", team.Limits.Alias);
            json.WriteNumber("spend", team.Spend.Value);
            AdminJson.WriteNullable(json, "max_budget", team.Limits.MaxBudget);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }));

    public Task UsersAsync(HttpContext context) => api.RunAsync(context, () =>
    {
        var only = TenantApiSupport.Query(context, "user_id");
        return TenantApiSupport.JsonAsync(context, json =>
        {
            json.WriteStartArray();
            foreach (var user in directory.Users.Where(u => only is null || u.Id == only).OrderByDescending(u => u.Spend.Value))
            {
                json.WriteStartObject();
                json.WriteString("user_id", user.Id);
                json.WriteNumber("spend", user.Spend.Value);
                AdminJson.WriteNullable(json, "max_budget", user.Limits.MaxBudget);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        });
    });

    /// <summary>LiteLLM's /global/spend/teams: daily spend per team alias, the aliases, and each team's total.</summary>
    public Task GlobalTeamsAsync(HttpContext context) => api.RunAsync(context, async () =>
    {
        var (start, end) = Range(context);
        var days = await store.AggregateSpendAsync("team_id", null, start, end, context.RequestAborted);
        string Name(string? id) => id is not null && directory.TryTeam(id, out var t) ? t.Limits.Alias ?? id : id ?? "Unassigned";
        await TenantApiSupport.JsonAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("daily_spend");
            foreach (var group in days.GroupBy(d => d.Day))
            {
                json.WriteStartObject();
                json.WriteString("date", Date(group.Key));
                foreach (var row in group)
                {
                    json.WriteNumber(Name(row.Grouping), row.Spend);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("teams");
            foreach (var id in days.Select(d => d.Grouping).Distinct())
            {
                json.WriteStringValue(Name(id));
            }

            json.WriteEndArray();
            json.WriteStartArray("total_spend_per_team");
            foreach (var team in days.GroupBy(d => d.Grouping))
            {
                json.WriteStartObject();
                json.WriteString("team_id", Name(team.Key));
                json.WriteNumber("total_spend", team.Sum(d => d.Spend));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    });

    public Task GlobalEndUsersAsync(HttpContext context) => Totals(context, "end_user", "end_user");

    public Task GlobalModelsAsync(HttpContext context) => Totals(context, "model_group", "model");

    /// <summary>
    /// LiteLLM's /team/daily/activity: per day, the spend of teams (all, or ?team_ids=a,b) with breakdowns by model
    /// group, model, key and team. Requests made outside a team are not in it.
    /// </summary>
    public Task TeamActivityAsync(HttpContext context) => ActivityAsync(context, "team_id",
        Ids(TenantApiSupport.Query(context, "team_ids") ?? TenantApiSupport.Query(context, "team_id")), everyone: false,
        (json, id) => AdminJson.WriteNullable(json, "team_alias", directory.TryTeam(id, out var team) ? team.Limits.Alias : null));

    /// <summary>LiteLLM's /user/daily/activity: per day, every request's spend (or one user's, ?user_id=), with the same breakdowns by user.</summary>
    public Task UserActivityAsync(HttpContext context) => ActivityAsync(context, "\"user\"", Ids(TenantApiSupport.Query(context, "user_id")), everyone: true,
        (json, id) => AdminJson.WriteNullable(json, "user_email", directory.TryUser(id, out var user) ? directory.RowOf<UserRow>(user).UserEmail : null));

    /// <summary>LiteLLM's /customer/daily/activity: per day, the spend of customers (all, or ?end_user_ids=a,b).</summary>
    public Task CustomerActivityAsync(HttpContext context) => ActivityAsync(context, "end_user", Ids(TenantApiSupport.Query(context, "end_user_ids")), everyone: false,
        (json, id) => AdminJson.WriteNullable(json, "alias", directory.TryCustomer(id, out var customer) ? directory.RowOf<EndUserRow>(customer).Alias : null));

    private Task ActivityAsync(HttpContext context, string column, string[]? wanted, bool everyone, Action<Utf8JsonWriter, string> metadata) =>
        api.RunAsync(context, async () =>
        {
            var (start, end) = Range(context);
            var token = context.RequestAborted;
            var report = new DailyActivity(
                await store.AggregateSpendAsync(column, "model_group", start, end, token),
                await store.AggregateSpendAsync(column, "model", start, end, token),
                await store.AggregateSpendAsync(column, "api_key", start, end, token));
            report = report.Only(id => wanted is null ? everyone || id is not null : id is not null && wanted.Contains(id));
            await TenantApiSupport.JsonAsync(context, json => report.Write(json, metadata));
        });

    private static string[]? Ids(string? list) => list?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private Task Totals(HttpContext context, string column, string name) => api.RunAsync(context, async () =>
    {
        var (start, end) = Range(context);
        var limit = int.TryParse(context.Request.Query["limit"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) && l > 0 ? l : 100;
        var rows = await store.AggregateSpendAsync(column, null, start, end, context.RequestAborted);
        await TenantApiSupport.JsonAsync(context, json =>
        {
            json.WriteStartArray();
            foreach (var group in rows.Where(r => r.Grouping is not null).GroupBy(r => r.Grouping).OrderByDescending(g => g.Sum(r => r.Spend)).Take(limit))
            {
                json.WriteStartObject();
                json.WriteString(name, group.Key);
                json.WriteNumber("total_spend", group.Sum(r => r.Spend));
                json.WriteNumber("total_count", group.Sum(r => r.Requests));
                json.WriteEndObject();
            }

            json.WriteEndArray();
        });
    });

    private static (long? Start, long? End) Range(HttpContext context)
    {
        var query = context.Request.Query;
        var start = DayStart(query["start_date"].ToString()) ?? DayStart(query["startTime"].ToString());
        var end = DayStart(query["end_date"].ToString()) ?? DayStart(query["endTime"].ToString());
        return (start, end is { } e ? e + Day : null);
    }

    private static long? DayStart(string text) =>
        DateTime.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var day)
            ? new DateTimeOffset(day, TimeSpan.Zero).ToUnixTimeMilliseconds()
            : null;

    private static string Date(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
