using System.Net;
using Microsoft.Data.Sqlite;
using Npgsql;
using Proxy.Admin.Storage;
using Proxy.IntegrationTests.Caching;
using Proxy.IntegrationTests.Infrastructure;
using Proxy.IntegrationTests.Keys;

namespace Proxy.IntegrationTests.Tenants;

/// <summary>Team limits across replicas, the proxy-wide budget, and the upgrade of a database written by the build before tenants.</summary>
[Collection(PostgresCollection.Name)]
public sealed class TenantReplicaTests
{
    [Fact]
    public async Task Team_rpm_holds_across_two_replicas_sharing_redis_and_postgres()
    {
        var database = (await PostgresDatabase.CreateAsync()).ConnectionString;
        var (host, port) = (TestServices.Redis.Split(':')[0], TestServices.Redis.Split(':')[1]);
        var router = $"  redis_host: {host}\n  redis_port: {port}";
        await using var a = await KeysGateway.StartAsync(database, "  user_api_key_cache_ttl: 0.2", router);
        await using var b = await KeysGateway.StartAsync(database, "  user_api_key_cache_ttl: 0.2", router);
        var team = (await a.AdminOkAsync(HttpMethod.Post, "/team/new", """{"team_alias":"shared","rpm_limit":4}""")).GetProperty("team_id").GetString();
        var (keyA, _) = await a.GenerateAsync($$"""{"team_id":"{{team}}"}""");
        var (keyB, _) = await a.GenerateAsync($$"""{"team_id":"{{team}}"}""");
        // B learns the team from the store within a refresh.
        Assert.True(await Eventually.TrueAsync(async () => (await b.AdminAsync(HttpMethod.Get, "/team/info?team_id=" + team)).Status == HttpStatusCode.OK,
            TimeSpan.FromSeconds(10)));
        var second = DateTimeOffset.UtcNow.Second;
        if (second >= 45)
        {
            await Task.Delay(TimeSpan.FromSeconds(61 - second));
        }

        for (var i = 0; i < 2; i++)
        {
            using var ok = await a.ChatAsync(keyA);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // B hears of A's two within a sync interval (100 ms) and admits only two more, with another key of the team.
        await Task.Delay(400);
        for (var i = 0; i < 2; i++)
        {
            using var ok = await b.ChatAsync(keyB);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var refused = await b.ChatAsync(keyB))
        {
            Assert.Contains($"Rate limit exceeded for team: {team}", await ErrorAssert.IsOpenAiErrorAsync(refused, 429));
        }

        await Task.Delay(400);
        using var refusedOnA = await a.ChatAsync(keyA);
        Assert.Equal(HttpStatusCode.TooManyRequests, refusedOnA.StatusCode);
    }

    [Fact]
    public async Task The_proxy_budget_refuses_everyone_once_spent()
    {
        await using var gateway = await KeysGateway.StartAsync(null, "litellm_settings:\n  max_budget: 1\n  budget_duration: 30d");
        var (first, _) = await gateway.GenerateAsync();
        var (second, _) = await gateway.GenerateAsync();
        using (var spent = await gateway.ChatAsync(first))
        {
            Assert.Equal(HttpStatusCode.OK, spent.StatusCode);
        }

        using (var refused = await gateway.ChatAsync(second))
        {
            Assert.StartsWith("ExceededBudget: LiteLLM Proxy has exceeded its budget.", await ErrorAssert.IsOpenAiErrorAsync(refused, 400), StringComparison.Ordinal);
        }

        using var master = await gateway.ChatAsync(Configs.MasterKey);
        Assert.Equal(HttpStatusCode.BadRequest, master.StatusCode);
    }

    [Fact]
    public async Task A_postgres_database_of_the_previous_schema_is_upgraded_in_place_and_keeps_its_keys_and_spend()
    {
        var database = (await PostgresDatabase.CreateAsync()).ConnectionString;
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            foreach (var statement in PreviousSchema)
            {
                await using var command = new NpgsqlCommand(statement, connection);
                await command.ExecuteNonQueryAsync();
            }

            foreach (var statement in PreviousRows)
            {
                await using var command = new NpgsqlCommand(statement, connection);
                await command.ExecuteNonQueryAsync();
            }
        }

        await using var gateway = await KeysGateway.StartAsync(database);
        await AssertUpgradedAsync(gateway);
        await using var check = new NpgsqlConnection(database);
        await check.OpenAsync();
        await using var version = new NpgsqlCommand("""SELECT MAX(version) FROM "gateway_schema_migrations" """, check);
        Assert.Equal((long)Migrations.Latest, (long)(await version.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task An_embedded_database_of_the_previous_schema_is_upgraded_in_place_and_keeps_its_keys_and_spend()
    {
        var folder = Path.Combine(Path.GetTempPath(), "gw-upgrade-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "old.db");
        await using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            await connection.OpenAsync();
            foreach (var statement in PreviousSchema.Concat(PreviousRows))
            {
                await using var command = connection.CreateCommand();
                command.CommandText = statement;
                await command.ExecuteNonQueryAsync();
            }
        }

        SqliteConnection.ClearAllPools();
        await using var gateway = await KeysGateway.StartAsync(null, $"  database_url: \"sqlite:{path}\"");
        await AssertUpgradedAsync(gateway);
    }

    private static async Task AssertUpgradedAsync(KeysGateway gateway)
    {
        // The old key still works and keeps its spend; its old spend-log row is still counted and found by its id.
        var info = await gateway.KeyInfoAsync("old-token-hash");
        Assert.Equal(2.5, info.GetProperty("spend").GetDouble());
        Assert.Equal(2.5, (await gateway.AdminOkAsync(HttpMethod.Get, "/global/spend")).GetProperty("spend").GetDouble());
        var logs = await gateway.AdminOkAsync(HttpMethod.Get, "/spend/logs?request_id=old-call-1");
        Assert.Equal("old-call-1", logs[0].GetProperty("call_id").GetString());

        // And the new tables are there.
        var team = await gateway.AdminOkAsync(HttpMethod.Post, "/team/new", """{"team_alias":"after-upgrade","max_budget":5}""");
        var (key, _) = await gateway.GenerateAsync($$"""{"team_id":"{{team.GetProperty("team_id").GetString()}}"}""");
        using var response = await gateway.ChatAsync(key);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    // The schema as the build before tenants created it (migration 1 is that schema, unchanged), and rows it wrote.
    private static readonly string[] PreviousSchema = Migrations.All[0].Statements;

    private static readonly string[] PreviousRows =
    [
        """
        INSERT INTO "LiteLLM_VerificationToken" (token, key_name, key_alias, spend, models, metadata, blocked, created_at, updated_at)
        VALUES ('old-token-hash', 'sk-...old1', 'old-key', 2.5, '[]', '{}', 0, 1700000000000, 1700000000000)
        """,
        """
        INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, total_tokens, prompt_tokens, completion_tokens, "startTime", "endTime", status)
        VALUES ('old-call-1', 'acompletion', 'old-token-hash', 2.5, 10, 6, 4, 1700000000000, 1700000001000, 'success')
        """,
    ];
}
