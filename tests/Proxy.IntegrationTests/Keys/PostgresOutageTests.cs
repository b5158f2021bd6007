using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Keys;

/// <summary>Postgres stopped mid-run: known keys keep working, spend is buffered and written when it is back.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresOutageTests : IAsyncLifetime
{
    private PostgresDatabase _database = null!;
    private KeysGateway _keys = null!;
    private bool _stopped;

    public async Task InitializeAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        _keys = await KeysGateway.StartAsync(_database.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (_stopped)
        {
            await TestServices.StartPostgresAsync();
        }

        await _keys.DisposeAsync();
    }

    [Fact]
    public async Task Traffic_continues_while_Postgres_is_down_and_every_spend_row_is_written_when_it_returns()
    {
        var (key, _) = await _keys.GenerateAsync("""{"key_alias":"outage"}""");
        var callIds = new List<string>();
        await SendAsync(key, 5, callIds);
        Assert.True(await Eventually.TrueAsync(async () => (await _keys.SpendLogsAsync(key)).Length == 5, TimeSpan.FromSeconds(10)));

        _stopped = true;
        await TestServices.StopPostgresAsync();
        try
        {
            await SendAsync(key, 20, callIds);

            var clock = Stopwatch.StartNew();
            var (status, body) = await _keys.AdminAsync(HttpMethod.Post, "/key/generate", "{}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"key creation took {clock.Elapsed} to fail");
            Assert.Contains("not available", body.GetProperty("error").GetProperty("message").GetString());

            Assert.True(await Eventually.TrueAsync(async () =>
            {
                var ready = await Readiness();
                return ready.GetProperty("db").GetString() == "Not connected" && ready.GetProperty("spend_log_buffer").GetProperty("depth").GetInt32() >= 20;
            }, TimeSpan.FromSeconds(15)), "readiness should show the database down and the buffered rows");
        }
        finally
        {
            await TestServices.StartPostgresAsync();
            _stopped = false;
        }

        await SendAsync(key, 5, callIds);
        Assert.True(await Eventually.TrueAsync(async () => (await _keys.SpendLogsAsync(key)).Length == callIds.Count, TimeSpan.FromSeconds(30)),
            "every spend-log row should be written once Postgres is back");
        var logged = (await _keys.SpendLogsAsync(key)).Select(l => l.GetProperty("request_id").GetString()!).ToHashSet();
        Assert.Subset(callIds.ToHashSet(), logged);
        Assert.True(await Eventually.TrueAsync(async () => (await Readiness()).GetProperty("spend_log_buffer").GetProperty("depth").GetInt32() == 0,
            TimeSpan.FromSeconds(10)));
    }

    private async Task SendAsync(string key, int count, List<string> callIds)
    {
        for (var i = 0; i < count; i++)
        {
            using var response = await _keys.ChatAsync(key);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            callIds.Add(response.Headers.GetValues("x-litellm-call-id").Single());
        }
    }

    private async Task<JsonElement> Readiness()
    {
        using var response = await _keys.Http.GetAsync("/health/readiness");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }
}
