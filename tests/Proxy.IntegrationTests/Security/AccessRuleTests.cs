using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Proxy.IntegrationTests.Guardrails;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Security;

/// <summary>
/// Issue 13, item 6 (all but the fallback rule): who may call /health, /model/info, /metrics, /health/readiness and the
/// admin routes, and the guard-answered /v1/moderations under a virtual key's limits.
/// </summary>
public sealed class AccessRuleTests : GuardrailFixture
{
    private string Config(string extraGeneral = "", string extraLitellm = "", bool masterKey = true) => $$"""
        model_list:
          - model_name: qwen3-8b
            litellm_params:
              model: hosted_vllm/Qwen/Qwen3-8B
              api_base: {{Model.BaseUrl}}
          - model_name: other-model
            litellm_params:
              model: hosted_vllm/other
              api_base: {{Model.BaseUrl}}
          - model_name: down-model
            litellm_params:
              model: hosted_vllm/down
              api_base: http://127.0.0.1:1/v1
        guardrails:
          - guardrail_name: llama-guard
            litellm_params:
              guardrail: llama_guard
              mode: pre_call
              default_on: false
              api_base: {{Guard.RootUrl}}
              model: llama-guard-3
        litellm_settings:
          num_retries: 0
        {{extraLitellm}}
        general_settings:
          {{(masterKey ? "master_key: " + Configs.MasterKey : "")}}
          proxy_batch_write_at: 0.1
        {{extraGeneral}}
        """;

    [Fact]
    public async Task A_virtual_key_is_refused_on_health_and_probes_are_coalesced_without_raw_exception_text()
    {
        Gateway = await GatewayInstance.StartAsync(Config());
        var key = await GenerateKeyAsync("{}");

        using (var refused = await GetAsync("/health", key))
        {
            Assert.Equal(403, (int)refused.StatusCode);
        }

        var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            using var response = await GetAsync("/health", Configs.MasterKey);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        }));
        using (var again = await GetAsync("/health", Configs.MasterKey))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        // Two deployments on the fake vLLM: one run of probes, shared by six calls.
        Assert.Equal(2, Model.Requests.Count(r => r.Method == "GET" && r.Path == "/health"));
        using var body = JsonDocument.Parse(answers[0]);
        var down = Assert.Single(body.RootElement.GetProperty("unhealthy_endpoints").EnumerateArray());
        var error = down.GetProperty("error").GetString()!;
        Assert.Equal("health check failed: ConnectionError", error);
    }

    [Fact]
    public async Task Model_info_for_a_virtual_key_lists_only_its_models()
    {
        Gateway = await GatewayInstance.StartAsync(Config());
        var key = await GenerateKeyAsync("""{"models":["qwen3-8b"]}""");

        using var response = await GetAsync("/model/info", key);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var names = body.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("model_name").GetString()).ToList();
        Assert.Equal(["qwen3-8b"], names);

        using var master = await GetAsync("/model/info", Configs.MasterKey);
        using var all = JsonDocument.Parse(await master.Content.ReadAsStringAsync());
        Assert.Equal(3, all.RootElement.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task Without_a_master_key_admin_routes_answer_403_and_model_routes_still_serve()
    {
        Gateway = await GatewayInstance.StartAsync(Config(masterKey: false));

        foreach (var (method, path) in new[] { (HttpMethod.Post, "/key/generate"), (HttpMethod.Get, "/key/list"), (HttpMethod.Get, "/global/spend"),
                     (HttpMethod.Get, "/spend/logs"), (HttpMethod.Post, "/model/new"), (HttpMethod.Get, "/health"), (HttpMethod.Get, "/cache/ping"),
                     (HttpMethod.Get, "/team/list"), (HttpMethod.Get, "/user/list"), (HttpMethod.Post, "/customer/new"), (HttpMethod.Get, "/customer/list"),
                     (HttpMethod.Post, "/end_user/block"), (HttpMethod.Post, "/budget/new"), (HttpMethod.Get, "/budget/list"), (HttpMethod.Post, "/organization/new"),
                     (HttpMethod.Get, "/organization/list") })
        {
            using var request = new HttpRequestMessage(method, path) { Content = method == HttpMethod.Post ? new StringContent("{}") : null };
            using var response = await Gateway.Http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{path}: {(int)response.StatusCode}");
        }

        using var chat = await Gateway.Http.SendAsync(Gateway.Post("/v1/chat/completions", SafePrompt));
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
    }

    [Fact]
    public async Task Require_auth_for_metrics_endpoint_lets_only_the_master_key_read_metrics()
    {
        Gateway = await GatewayInstance.StartAsync(Config(extraLitellm: "  require_auth_for_metrics_endpoint: true"));
        var key = await GenerateKeyAsync("{}");

        using (var anonymous = await Gateway.Http.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using (var tenant = await GetAsync("/metrics", key))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, tenant.StatusCode);
        }

        using var master = await GetAsync("/metrics", Configs.MasterKey);
        Assert.Equal(HttpStatusCode.OK, master.StatusCode);
        Assert.Contains("litellm_", await master.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Metrics_stay_open_by_default_as_in_litellm()
    {
        Gateway = await GatewayInstance.StartAsync(Config());
        using var anonymous = await Gateway.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
    }

    [Fact]
    public async Task Readiness_without_the_master_key_shows_no_file_path_or_error_text()
    {
        Gateway = await GatewayInstance.StartAsync(Config());
        await File.WriteAllTextAsync(Gateway.ConfigPath, Config() + "\nmodel_list_broken: [\n");
        Assert.True(await Eventually.TrueAsync(async () => (await Gateway.Http.GetStringAsync("/health/readiness")).Contains("\"failed\"", StringComparison.Ordinal),
            TimeSpan.FromSeconds(20)), "the broken edit was not seen");

        var anonymous = await Gateway.Http.GetStringAsync("/health/readiness");
        Assert.DoesNotContain(Gateway.Directory, anonymous, StringComparison.Ordinal);
        Assert.DoesNotContain("config.yaml", anonymous, StringComparison.Ordinal);
        Assert.Contains("\"error_count\":1", anonymous, StringComparison.Ordinal);

        using var master = await GetAsync("/health/readiness", Configs.MasterKey);
        var full = await master.Content.ReadAsStringAsync();
        Assert.Contains("config.yaml", full, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Guard_answered_moderations_go_through_key_limits_and_spend_and_cap_their_inputs()
    {
        Gateway = await GatewayInstance.StartAsync(Config());
        var limited = await GenerateKeyAsync("""{"rpm_limit":1,"key_alias":"mod-key"}""");
        var restricted = await GenerateKeyAsync("""{"models":["qwen3-8b"]}""");

        using (var first = await PostAsync("/v1/moderations", """{"input":"hello"}""", limited))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using (var second = await PostAsync("/v1/moderations", """{"input":"hello again"}""", limited))
        {
            Assert.Equal(429, (int)second.StatusCode);
        }

        using (var named = await PostAsync("/v1/moderations", """{"input":"hi","model":"llama-guard-3"}""", restricted))
        {
            Assert.Equal(HttpStatusCode.Forbidden, named.StatusCode);
        }

        var inputs = string.Join(",", Enumerable.Range(0, 33).Select(i => $"\"text {i}\""));
        using (var tooMany = await PostAsync("/v1/moderations", "{\"input\":[" + inputs + "]}", Configs.MasterKey))
        {
            Assert.Contains("At most 32", await ErrorAssert.IsOpenAiErrorAsync(tooMany, 400));
        }

        Assert.Equal(1, GuardCalls);
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            using var logs = await GetAsync("/spend/logs", Configs.MasterKey);
            return (await logs.Content.ReadAsStringAsync()).Contains("amoderation", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(10)), "the moderation left no spend-log row");
    }

    private async Task<string> GenerateKeyAsync(string json)
    {
        using var response = await PostAsync("/key/generate", json);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        using var body = JsonDocument.Parse(text);
        return body.RootElement.GetProperty("key").GetString()!;
    }

    private Task<HttpResponseMessage> GetAsync(string path, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return Gateway!.Http.SendAsync(request);
    }
}
