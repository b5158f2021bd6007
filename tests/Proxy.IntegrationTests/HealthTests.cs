using System.Text.Json;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests;

public sealed class HealthTests : IAsyncLifetime
{
    private FakeUpstreamServer _up = null!;
    private FakeUpstreamServer _down = null!;

    public async Task InitializeAsync()
    {
        _up = await FakeUpstreamServer.StartAsync();
        _down = await FakeUpstreamServer.StartAsync();
        await _down.StopAsync();
    }

    public async Task DisposeAsync()
    {
        await _up.DisposeAsync();
        await _down.DisposeAsync();
    }

    private string Config(string routerSettings = "") => $"""
        model_list:
          - model_name: g
            litellm_params:
              model: hosted_vllm/up
              api_base: {_up.BaseUrl}
            model_info:
              id: up
          - model_name: g
            litellm_params:
              model: hosted_vllm/down
              api_base: {_down.BaseUrl}
            model_info:
              id: down
        {routerSettings}
        general_settings:
          master_key: {Configs.MasterKey}
        """;

    private static async Task<JsonDocument> HealthAsync(GatewayInstance gateway)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health");
        request.Headers.Add("Authorization", "Bearer " + Configs.MasterKey);
        using var response = await gateway.Http.SendAsync(request);
        Assert.Equal(200, (int)response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Health_probes_every_deployment_in_litellms_shape()
    {
        await using var gateway = await GatewayInstance.StartAsync(Config());

        using var health = await HealthAsync(gateway);

        var root = health.RootElement;
        Assert.Equal(1, root.GetProperty("healthy_count").GetInt32());
        Assert.Equal(1, root.GetProperty("unhealthy_count").GetInt32());
        Assert.Equal("up", root.GetProperty("healthy_endpoints")[0].GetProperty("model_id").GetString());
        var unhealthy = root.GetProperty("unhealthy_endpoints")[0];
        Assert.Equal("down", unhealthy.GetProperty("model_id").GetString());
        Assert.Equal("hosted_vllm/down", unhealthy.GetProperty("model").GetString());
        Assert.False(string.IsNullOrEmpty(unhealthy.GetProperty("error").GetString()));
        Assert.Contains(_up.Requests, r => r.Method == "GET" && r.Path == "/health");
        Assert.DoesNotContain(Configs.UpstreamKey, root.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_needs_the_master_key()
    {
        await using var gateway = await GatewayInstance.StartAsync(Config());
        using var response = await gateway.Http.GetAsync("/health");
        await ErrorAssert.IsOpenAiErrorAsync(response, 401);
    }

    [Fact]
    public async Task Background_health_checks_take_a_dead_deployment_out_of_rotation()
    {
        await using var gateway = await GatewayInstance.StartAsync(Config("router_settings:\n  health_check_interval: 1\n  num_retries: 0\n"));

        Assert.True(await Eventually.TrueAsync(async () =>
        {
            using var health = await HealthAsync(gateway);
            return health.RootElement.GetProperty("unhealthy_count").GetInt32() == 1;
        }, TimeSpan.FromSeconds(15)));
        for (var i = 0; i < 20; i++)
        {
            using var response = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions",
                """{"model":"g","messages":[{"role":"user","content":"hi"}]}""", Configs.MasterKey));
            Assert.Equal(200, (int)response.StatusCode);
        }
    }
}
