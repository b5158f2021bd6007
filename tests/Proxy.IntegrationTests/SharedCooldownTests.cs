using FakeUpstream;
using Proxy.IntegrationTests.Caching;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests;

/// <summary>Two gateways with router_settings.redis_* on the test Redis: a deployment one takes out, the other leaves alone.</summary>
[Collection(RedisCollection.Name)]
public sealed class SharedCooldownTests : IAsyncLifetime
{
    private FakeUpstreamServer _limited = null!;
    private FakeUpstreamServer _spare = null!;
    private readonly List<GatewayInstance> _gateways = [];

    public async Task InitializeAsync()
    {
        _limited = await FakeUpstreamServer.StartAsync();
        _spare = await FakeUpstreamServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            await gateway.DisposeAsync();
        }

        await _limited.DisposeAsync();
        await _spare.DisposeAsync();
    }

    private async Task<GatewayInstance> GatewayAsync()
    {
        var (host, port) = (TestServices.Redis.Split(':')[0], TestServices.Redis.Split(':')[1]);
        // A deployment id unique to this test run, so that a cooldown left in Redis by another run cannot interfere.
        var gateway = await GatewayInstance.StartAsync($$"""
            model_list:
              - model_name: g
                litellm_params:
                  model: hosted_vllm/limited
                  api_base: {{_limited.BaseUrl}}
                model_info:
                  id: limited-{{_limited.BaseUrl.GetHashCode():x}}
              - model_name: g
                litellm_params:
                  model: hosted_vllm/spare
                  api_base: {{_spare.BaseUrl}}
                model_info:
                  id: spare
            router_settings:
              cooldown_time: 30
              redis_host: {{host}}
              redis_port: {{port}}
            general_settings:
              master_key: {{Configs.MasterKey}}
            """);
        _gateways.Add(gateway);
        return gateway;
    }

    private static async Task<int> ChatAsync(GatewayInstance gateway)
    {
        using var response = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions",
            """{"model":"g","messages":[{"role":"user","content":"hi"}],"max_tokens":4}""", Configs.MasterKey));
        return (int)response.StatusCode;
    }

    [Fact]
    public async Task A_deployment_cooled_down_by_one_replica_is_left_alone_by_the_others()
    {
        var a = await GatewayAsync();
        var b = await GatewayAsync();
        foreach (var gateway in new[] { a, b })
        {
            Assert.True(await Eventually.TrueAsync(async () => (await gateway.Http.GetStringAsync("/health/readiness")).Contains("\"router_redis\":\"connected\""),
                TimeSpan.FromSeconds(10)), "each replica should report its shared router state connected");
        }

        _limited.Options.FailStatus = 429;

        // A finds out: the 429 is retried on the spare and the limited deployment is taken out.
        Assert.True(await Eventually.TrueAsync(async () => await ChatAsync(a) == 200 && _limited.RequestCount > 0, TimeSpan.FromSeconds(10)));
        var seen = _limited.RequestCount;
        await Task.Delay(500);

        // B never tries it: each of its requests would otherwise pick it half of the time.
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(200, await ChatAsync(b));
        }

        Assert.Equal(seen, _limited.RequestCount);

        // A replica that starts later learns the cooldown under way when it connects.
        var c = await GatewayAsync();
        await Task.Delay(1000);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(200, await ChatAsync(c));
        }

        Assert.Equal(seen, _limited.RequestCount);
    }
}
