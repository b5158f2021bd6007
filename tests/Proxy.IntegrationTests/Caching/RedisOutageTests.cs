using System.Diagnostics;
using System.Text.Json;
using Proxy.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Proxy.IntegrationTests.Caching;

/// <summary>Redis going away and coming back: clients never notice beyond the missing hits.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisOutageTests : CacheTestBase
{
    [Fact]
    public async Task Redis_stopped_mid_run_means_uncached_answers_then_hits_again_when_it_is_back()
    {
        await PostAsync(Chat("outage"));
        await StoredAsync(1);
        // A freshly started gateway on a loaded machine can miss its 100 ms lookup budget once; caching works once a hit comes.
        Assert.True(await Eventually.TrueAsync(async () => (await PostAsync(Chat("outage"))).Hit, TimeSpan.FromSeconds(10)));

        await TestServices.StopRedisAsync();
        try
        {
            var callsBefore = UpstreamCalls;
            for (var i = 0; i < 5; i++)
            {
                // PostAsync asserts a 2xx: an outage must never become a client error.
                var answer = await PostAsync(Chat("outage"));
                Assert.False(answer.Hit);
            }

            Assert.Equal(callsBefore + 5, UpstreamCalls);
            Assert.True(Stats.Errors >= 5);
            Assert.Equal("disconnected", await CacheStatusAsync());
        }
        finally
        {
            await TestServices.StartRedisAsync();
        }

        // The multiplexer reconnects by itself; once it has, answers are stored and hit again.
        Assert.True(await Eventually.TrueAsync(async () => await CacheStatusAsync() == "connected", TimeSpan.FromSeconds(20)));
        Assert.True(await Eventually.TrueAsync(async () => (await PostAsync(Chat("outage"))).Hit, TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task Slow_redis_is_waited_for_only_briefly()
    {
        await PostAsync(Chat("slow"));
        await StoredAsync(1);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(TestServices.Redis + ",allowAdmin=true");
        var server = admin.GetServer(TestServices.Redis);
        var errorsBefore = Stats.Errors;

        // Redis holds every client's commands for 3 s: the cached answer is there but cannot be read in time.
        await server.ExecuteAsync("CLIENT", "PAUSE", "3000", "ALL");
        Answer answer;
        var clock = Stopwatch.StartNew();
        try
        {
            answer = await PostAsync(Chat("slow"));
            clock.Stop();
        }
        finally
        {
            await server.ExecuteAsync("CLIENT", "UNPAUSE");
        }

        Assert.False(answer.Hit);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the request waited {clock.Elapsed} for a paused Redis");
        Assert.True(Stats.Errors > errorsBefore);
        Assert.True(await Eventually.TrueAsync(async () => (await PostAsync(Chat("slow"))).Hit, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Gateway_starts_and_serves_while_its_redis_is_unreachable()
    {
        // A port nobody listens on: start-up waits a bounded time, then requests run uncached.
        await using var gateway = await GatewayInstance.StartAsync(ConfigFor(Upstream.BaseUrl, "type: redis\nhost: 127.0.0.1\nport: 1\n"));

        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Http.SendAsync(gateway.Post(ChatPath, Chat("no redis"), Configs.MasterKey));
            Assert.True(response.IsSuccessStatusCode);
            Assert.False(response.Headers.Contains("x-litellm-cache-key"));
        }

        using var ping = new HttpRequestMessage(HttpMethod.Get, "/cache/ping");
        ping.Headers.Add("Authorization", "Bearer " + Configs.MasterKey);
        using var pingResponse = await gateway.Http.SendAsync(ping);
        var message = await ErrorAssert.IsOpenAiErrorAsync(pingResponse, 503);
        Assert.Contains("Service Unhealthy", message, StringComparison.Ordinal);
    }

    private async Task<string?> CacheStatusAsync()
    {
        using var body = JsonDocument.Parse(await Gateway.Http.GetStringAsync("/health/readiness"));
        return body.RootElement.GetProperty("cache_status").GetProperty("status").GetString();
    }
}
