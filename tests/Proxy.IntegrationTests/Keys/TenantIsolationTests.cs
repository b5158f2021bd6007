using System.Net;
using System.Text.Json;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Keys;

/// <summary>
/// What one tenant with one virtual key can do to the others: its mock and test fields never touch shared state, its
/// num_retries cannot multiply the load, and a fallback never answers it from a group its key may not use.
/// </summary>
public sealed class TenantIsolationTests : IAsyncLifetime
{
    private FakeUpstreamServer _first = null!;
    private FakeUpstreamServer _second = null!;
    private FakeUpstreamServer _backup = null!;

    public async Task InitializeAsync()
    {
        _first = await FakeUpstreamServer.StartAsync();
        _second = await FakeUpstreamServer.StartAsync();
        _backup = await FakeUpstreamServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _first.DisposeAsync();
        await _second.DisposeAsync();
        await _backup.DisposeAsync();
    }

    [Fact]
    public async Task Mock_rate_limits_from_one_key_do_not_take_the_group_out_for_another()
    {
        // Even where the operator lets every key mock, a mocked 429 is no fact about the deployments.
        await using var gateway = await GatewayInstance.StartAsync(Config("  allow_client_mock_response: true\n"));
        var tenantA = await GenerateAsync(gateway);
        var tenantB = await GenerateAsync(gateway);

        for (var i = 0; i < 5; i++)
        {
            using var mocked = await ChatAsync(gateway, tenantA, "chat", ""","mock_response":"litellm.RateLimitError","num_retries":10""");
            Assert.Equal(HttpStatusCode.TooManyRequests, mocked.StatusCode);
            using var flagged = await ChatAsync(gateway, tenantA, "chat", ""","mock_testing_rate_limit_error":true""");
            Assert.Equal(HttpStatusCode.TooManyRequests, flagged.StatusCode);
        }

        for (var i = 0; i < 10; i++)
        {
            using var served = await ChatAsync(gateway, tenantB, "chat");
            Assert.True(served.StatusCode == HttpStatusCode.OK, $"request {i} of key B: {(int)served.StatusCode} {await served.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task A_virtual_keys_mock_fields_are_ignored_unless_the_operator_allows_them()
    {
        await using var gateway = await GatewayInstance.StartAsync(Config(""));
        var tenant = await GenerateAsync(gateway);

        using var mocked = await ChatAsync(gateway, tenant, "chat", ""","mock_response":"litellm.RateLimitError","mock_testing_fallbacks":true""");
        using var master = await ChatAsync(gateway, Configs.MasterKey, "chat", ""","mock_response":"mocked for the operator" """);

        Assert.Equal(HttpStatusCode.OK, mocked.StatusCode);
        Assert.Equal(1, _first.RequestCount + _second.RequestCount);
        Assert.Contains("mocked for the operator", await master.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, _first.RequestCount + _second.RequestCount);
    }

    [Fact]
    public async Task A_virtual_keys_num_retries_is_capped_at_the_routers()
    {
        _first.Options.FailStatus = 500;
        _second.Options.FailStatus = 500;
        await using var gateway = await GatewayInstance.StartAsync(Config("", numRetries: 1));
        var tenant = await GenerateAsync(gateway);

        using var capped = await ChatAsync(gateway, tenant, "chat", ""","num_retries":6""");
        var tenantCalls = _first.RequestCount + _second.RequestCount;
        using var operatorAsked = await ChatAsync(gateway, Configs.MasterKey, "chat", ""","num_retries":3""");

        Assert.Equal(HttpStatusCode.InternalServerError, capped.StatusCode);
        Assert.Equal("1", capped.Headers.GetValues("x-litellm-attempted-retries").Single());
        Assert.Equal(2, tenantCalls);
        Assert.Equal("3", operatorAsked.Headers.GetValues("x-litellm-attempted-retries").Single());
    }

    [Fact]
    public async Task A_fallback_never_answers_from_a_group_the_key_may_not_use()
    {
        _first.Options.FailStatus = 500;
        _second.Options.FailStatus = 500;
        await using var gateway = await GatewayInstance.StartAsync(Config("", fallbacks: true));
        var restricted = await GenerateAsync(gateway, """{"models":["chat"]}""");
        var allowed = await GenerateAsync(gateway, """{"models":["chat","backup"]}""");

        using var refused = await ChatAsync(gateway, restricted, "chat");
        Assert.Equal(0, _backup.RequestCount);
        using var fellBack = await ChatAsync(gateway, allowed, "chat");

        Assert.Equal(HttpStatusCode.InternalServerError, refused.StatusCode);
        Assert.Equal("0", refused.Headers.GetValues("x-litellm-attempted-fallbacks").Single());
        Assert.Equal(HttpStatusCode.OK, fellBack.StatusCode);
        Assert.Equal(1, _backup.RequestCount);
    }

    private string Config(string extraGeneral, int numRetries = 2, bool fallbacks = false) => $$"""
        model_list:
          - model_name: chat
            litellm_params:
              model: hosted_vllm/chat
              api_base: {{_first.BaseUrl}}
          - model_name: chat
            litellm_params:
              model: hosted_vllm/chat
              api_base: {{_second.BaseUrl}}
          - model_name: backup
            litellm_params:
              model: hosted_vllm/backup
              api_base: {{_backup.BaseUrl}}
        router_settings:
          num_retries: {{numRetries}}
          retry_after: 0
          {{(fallbacks ? "fallbacks: [{\"chat\": [\"backup\"]}]" : "")}}
        general_settings:
          master_key: {{Configs.MasterKey}}
        {{extraGeneral}}
        """;

    private static async Task<string> GenerateAsync(GatewayInstance gateway, string json = "{}")
    {
        using var response = await gateway.Http.SendAsync(gateway.Post("/key/generate", json, Configs.MasterKey));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        using var body = JsonDocument.Parse(text);
        return body.RootElement.GetProperty("key").GetString()!;
    }

    private static Task<HttpResponseMessage> ChatAsync(GatewayInstance gateway, string key, string model, string extra = "") =>
        gateway.Http.SendAsync(gateway.Post("/v1/chat/completions", $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]{{extra}}}""", key));
}
