using System.Globalization;
using System.Net;
using System.Text.Json;
using Proxy.IntegrationTests.Infrastructure;
using Proxy.IntegrationTests.Keys;

namespace Proxy.IntegrationTests.Tenants;

/// <summary>
/// /team/daily/activity and /user/daily/activity (LiteLLM's shapes) over spend made by real requests, on the embedded
/// store and on PostgreSQL: totals, per-day metrics and the breakdowns by team, key and model group the UI charts draw.
/// </summary>
public abstract class DailyActivityTests : IAsyncLifetime
{
    private KeysGateway _gateway = null!;

    protected abstract Task<string?> DatabaseAsync();

    public async Task InitializeAsync() => _gateway = await KeysGateway.StartAsync(await DatabaseAsync());

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Daily_activity_sums_real_requests_per_team_key_and_model_group()
    {
        var alpha = (await _gateway.AdminOkAsync(HttpMethod.Post, "/team/new", """{"team_alias":"Alpha"}""")).GetProperty("team_id").GetString()!;
        var beta = (await _gateway.AdminOkAsync(HttpMethod.Post, "/team/new", """{"team_alias":"Beta"}""")).GetProperty("team_id").GetString()!;
        var (alphaKey, alphaToken) = await _gateway.GenerateAsync($$"""{"team_id":"{{alpha}}","key_alias":"alpha-key"}""");
        var (betaKey, betaToken) = await _gateway.GenerateAsync($$"""{"team_id":"{{beta}}","key_alias":"beta-key"}""");
        var (loneKey, loneToken) = await _gateway.GenerateAsync("""{"key_alias":"no-team-key"}""");

        var alphaCost = await ChatAsync(alphaKey, "qwen3-8b") + await ChatAsync(alphaKey, "other-model");
        var betaCost = await ChatAsync(betaKey, "qwen3-8b");
        var loneCost = await ChatAsync(loneKey, "qwen3-8b", customer: "cust-a");
        Assert.True(await Eventually.TrueAsync(async () => (await _gateway.SpendLogsAsync()).Length == 4, TimeSpan.FromSeconds(10)), "the spend-log rows were never written");

        // Yesterday to tomorrow: the requests may straddle midnight, so the figures are summed over the days.
        var range = Range();
        var teams = await _gateway.AdminOkAsync(HttpMethod.Get, "/team/daily/activity?" + range);
        Assert.Equal(alphaCost + betaCost, teams.GetProperty("metadata").GetProperty("total_spend").GetDouble(), 9);
        Assert.Equal(3, teams.GetProperty("metadata").GetProperty("total_api_requests").GetInt32());
        Assert.Equal(3, teams.GetProperty("metadata").GetProperty("total_successful_requests").GetInt32());
        var entities = Sum(teams, "entities");
        // The request without a team is not a team's.
        Assert.Equal(new[] { alpha, beta }.Order(StringComparer.Ordinal), entities.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(alphaCost, entities[alpha].Spend, 9);
        Assert.Equal(2, entities[alpha].Requests);
        Assert.Equal(betaCost, entities[beta].Spend, 9);
        Assert.Equal("Alpha", Entity(teams, alpha).GetProperty("metadata").GetProperty("team_alias").GetString());
        Assert.Equal("alpha-key", Entity(teams, alpha).GetProperty("api_key_breakdown").GetProperty(alphaToken).GetProperty("metadata").GetProperty("key_alias").GetString());
        var teamModels = Sum(teams, "model_groups");
        Assert.Equal(2, teamModels["qwen3-8b"].Requests);
        Assert.Equal(1, teamModels["other-model"].Requests);

        // One team only; per day, the breakdowns add up to the day's metrics.
        var onlyBeta = await _gateway.AdminOkAsync(HttpMethod.Get, $"/team/daily/activity?team_ids={beta}&{range}");
        Assert.Equal(betaCost, onlyBeta.GetProperty("metadata").GetProperty("total_spend").GetDouble(), 9);
        Assert.Equal([beta], Sum(onlyBeta, "entities").Keys.ToArray());

        var all = await _gateway.AdminOkAsync(HttpMethod.Get, "/user/daily/activity?" + range);
        Assert.Equal(alphaCost + betaCost + loneCost, all.GetProperty("metadata").GetProperty("total_spend").GetDouble(), 9);
        Assert.Equal(4, all.GetProperty("metadata").GetProperty("total_api_requests").GetInt32());
        foreach (var day in all.GetProperty("results").EnumerateArray())
        {
            var metrics = day.GetProperty("metrics");
            foreach (var breakdown in (string[])["model_groups", "api_keys", "models", "entities"])
            {
                var parts = day.GetProperty("breakdown").GetProperty(breakdown).EnumerateObject().Select(p => p.Value.GetProperty("metrics")).ToList();
                Assert.Equal(metrics.GetProperty("spend").GetDouble(), parts.Sum(p => p.GetProperty("spend").GetDouble()), 9);
                Assert.Equal(metrics.GetProperty("api_requests").GetInt32(), parts.Sum(p => p.GetProperty("api_requests").GetInt32()));
            }
        }

        var keys = Sum(all, "api_keys");
        Assert.Equal(alphaCost, keys[alphaToken].Spend, 9);
        Assert.Equal(2, keys[alphaToken].Requests);
        Assert.Equal(betaCost, keys[betaToken].Spend, 9);
        Assert.Equal(loneCost, keys[loneToken].Spend, 9);
        var loneMetadata = all.GetProperty("results").EnumerateArray().Select(d => d.GetProperty("breakdown").GetProperty("api_keys"))
            .First(k => k.TryGetProperty(loneToken, out _)).GetProperty(loneToken).GetProperty("metadata");
        Assert.Equal("no-team-key", loneMetadata.GetProperty("key_alias").GetString());
        Assert.Equal(JsonValueKind.Null, loneMetadata.GetProperty("team_id").ValueKind);
        var models = Sum(all, "model_groups");
        Assert.Equal(3, models["qwen3-8b"].Requests);
        Assert.Equal(1, models["other-model"].Requests);

        // Customers: only the request made for one.
        var customers = await _gateway.AdminOkAsync(HttpMethod.Get, "/customer/daily/activity?" + range);
        Assert.Equal(loneCost, customers.GetProperty("metadata").GetProperty("total_spend").GetDouble(), 9);
        Assert.Equal(["cust-a"], Sum(customers, "entities").Keys.ToArray());
        var alias = await _gateway.AdminOkAsync(HttpMethod.Get, "/end_user/daily/activity?end_user_ids=nobody&" + range);
        Assert.Equal(0, alias.GetProperty("results").GetArrayLength());

        // Days outside the range hold nothing.
        var future = DateTime.UtcNow.AddDays(3).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var none = await _gateway.AdminOkAsync(HttpMethod.Get, $"/user/daily/activity?start_date={future}&end_date={future}");
        Assert.Equal(0, none.GetProperty("results").GetArrayLength());
        Assert.Equal(0, none.GetProperty("metadata").GetProperty("total_spend").GetDouble());
    }

    private async Task<double> ChatAsync(string key, string model, string? customer = null)
    {
        using var response = await _gateway.ChatAsync(key, model, customer is null ? "" : $$""","user":"{{customer}}" """);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var cost = double.Parse(response.Headers.GetValues("x-litellm-response-cost").Single(), CultureInfo.InvariantCulture);
        Assert.True(cost > 0);
        return cost;
    }

    private static string Range() =>
        $"start_date={DateTime.UtcNow.AddDays(-1):yyyy-MM-dd}&end_date={DateTime.UtcNow.AddDays(1):yyyy-MM-dd}";

    /// <summary>One breakdown's spend and requests per name, summed over the days.</summary>
    private static Dictionary<string, (double Spend, int Requests)> Sum(JsonElement report, string breakdown)
    {
        var sums = new Dictionary<string, (double Spend, int Requests)>(StringComparer.Ordinal);
        foreach (var day in report.GetProperty("results").EnumerateArray())
        {
            foreach (var part in day.GetProperty("breakdown").GetProperty(breakdown).EnumerateObject())
            {
                var metrics = part.Value.GetProperty("metrics");
                var (spend, requests) = sums.GetValueOrDefault(part.Name);
                sums[part.Name] = (spend + metrics.GetProperty("spend").GetDouble(), requests + metrics.GetProperty("api_requests").GetInt32());
            }
        }

        return sums;
    }

    private static JsonElement Entity(JsonElement report, string id) => report.GetProperty("results").EnumerateArray()
        .Select(d => d.GetProperty("breakdown").GetProperty("entities")).First(e => e.TryGetProperty(id, out _)).GetProperty(id);
}

public sealed class SqliteDailyActivityTests : DailyActivityTests
{
    protected override Task<string?> DatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresDailyActivityTests : DailyActivityTests
{
    protected override async Task<string?> DatabaseAsync() => (await PostgresDatabase.CreateAsync()).ConnectionString;
}
