using System.Net;
using System.Text.Json;
using Proxy.IntegrationTests.Caching;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Keys;

/// <summary>
/// Two gateways sharing key rate limits through the test Redis (router_settings.redis_*). Each has its own embedded
/// store holding the same key (created with the same value on both), so only Redis connects them.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class SharedLimitTests : IAsyncLifetime
{
    private const string Key = "sk-shared-limits-test-key-0001";
    private KeysGateway _a = null!;
    private KeysGateway _b = null!;

    public async Task InitializeAsync()
    {
        var (host, port) = (TestServices.Redis.Split(':')[0], TestServices.Redis.Split(':')[1]);
        var router = $"  redis_host: {host}\n  redis_port: {port}";
        _a = await KeysGateway.StartAsync(extraRouter: router);
        _b = await KeysGateway.StartAsync(extraRouter: router);
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    private async Task CreateOnBothAsync(string settings)
    {
        foreach (var gateway in new[] { _a, _b })
        {
            await gateway.GenerateAsync($$"""{"key":"{{Key}}",{{settings}}}""");
        }
    }

    // Counts are per calendar minute: a test that would straddle a minute boundary waits for the next minute first.
    private static async Task AwayFromMinuteEndAsync()
    {
        var second = DateTimeOffset.UtcNow.Second;
        if (second >= 45)
        {
            await Task.Delay(TimeSpan.FromSeconds(61 - second));
        }
    }

    private static async Task<HttpStatusCode> StatusAsync(KeysGateway gateway)
    {
        using var response = await gateway.ChatAsync(Key);
        return response.StatusCode;
    }

    [Fact]
    public async Task Rpm_limit_counts_the_requests_of_every_replica()
    {
        await CreateOnBothAsync("\"rpm_limit\":6");
        await AwayFromMinuteEndAsync();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(_a));
        }

        // B learns A's three within a sync interval (100 ms) and admits only the other three.
        await Task.Delay(400);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(_b));
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(_b));
        await Task.Delay(400);
        // A has served only 3 of its own: without sharing it would admit this one.
        using var refused = await _a.ChatAsync(Key);
        Assert.Contains("Limit type: requests", await ErrorAssert.IsOpenAiErrorAsync(refused, 429));
    }

    [Fact]
    public async Task Max_parallel_requests_counts_requests_in_flight_on_other_replicas()
    {
        await CreateOnBothAsync("\"max_parallel_requests\":1");
        var before = _a.Upstream.RequestCount;
        var slow = _a.ChatAsync(Key, extra: ""","fake_latency_ms":4000""");
        // In flight once A's upstream has it (A counted it before forwarding); then the other replica must see it.
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(_a.Upstream.RequestCount > before), TimeSpan.FromSeconds(3)));

        // Replicas sync their counts every 100 ms, so B learns of A's request within a few syncs (more on a busy machine).
        string? refusal = null;
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            using var second = await _b.ChatAsync(Key);
            if (second.StatusCode != HttpStatusCode.TooManyRequests)
            {
                return false;
            }

            refusal = await ErrorAssert.IsOpenAiErrorAsync(second, 429);
            return true;
        }, TimeSpan.FromSeconds(3)), "the other replica never counted A's request in flight");
        Assert.Contains("Limit type: max_parallel_requests", refusal);
        Assert.False(slow.IsCompleted, "A's request must still be in flight when B refuses");

        using (var first = await slow)
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        // The slot is free everywhere once A reports the request over.
        Assert.True(await Eventually.TrueAsync(async () => await StatusAsync(_b) == HttpStatusCode.OK, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Redis_down_leaves_each_replica_enforcing_its_own_counts_and_sharing_resumes_when_it_is_back()
    {
        await CreateOnBothAsync("\"rpm_limit\":4");
        await AwayFromMinuteEndAsync();
        Assert.Equal("connected", await ReadinessAsync(_a));
        await TestServices.StopRedisAsync();
        try
        {
            // Shared counts older than a few seconds mean nothing; meanwhile every request is answered, none fails.
            await Task.Delay(3500);
            Assert.Equal("Not connected", await ReadinessAsync(_a));
            for (var i = 0; i < 4; i++)
            {
                Assert.Equal(HttpStatusCode.OK, await StatusAsync(_a));
                Assert.Equal(HttpStatusCode.OK, await StatusAsync(_b));
            }

            // Each replica still holds its own limit.
            Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(_a));
        }
        finally
        {
            await TestServices.StartRedisAsync();
        }

        Assert.True(await Eventually.TrueAsync(async () => await ReadinessAsync(_a) == "connected" && await ReadinessAsync(_b) == "connected",
            TimeSpan.FromSeconds(15)), "sharing should resume by itself");
    }

    private static async Task<string?> ReadinessAsync(KeysGateway gateway)
    {
        using var response = await gateway.Http.GetAsync("/health/readiness");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("key_limits_redis").GetString();
    }
}
