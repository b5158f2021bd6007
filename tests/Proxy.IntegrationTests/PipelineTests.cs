using System.Net;
using System.Text;
using System.Text.Json;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests;

/// <summary>
/// The request path as a new user meets it: limits on groups of one deployment, what reaches an upstream and what
/// comes back from it, and the body checks before any stage runs.
/// </summary>
public sealed class PipelineTests : IAsyncLifetime
{
    private const string Hello = """{"role":"user","content":"hello there"}""";

    private FakeUpstreamServer _first = null!;
    private FakeUpstreamServer _second = null!;

    public async Task InitializeAsync()
    {
        _first = await FakeUpstreamServer.StartAsync();
        _second = await FakeUpstreamServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _first.DisposeAsync();
        await _second.DisposeAsync();
    }

    [Fact]
    public async Task Rpm_one_on_a_group_of_one_deployment_refuses_the_second_request_of_the_minute_with_retry_after()
    {
        await using var gateway = await GatewayInstance.StartAsync(Group("solo", _first.BaseUrl, "rpm: 1"));

        using var first = await ChatAsync(gateway, "solo");
        using var second = await ChatAsync(gateway, "solo");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var message = await ErrorAssert.IsOpenAiErrorAsync(second, 429);
        Assert.Contains("No deployments available", message, StringComparison.Ordinal);
        AssertRetryAfterWithinAMinute(second);
        Assert.Equal(1, _first.CountFor("/v1/chat/completions"));
    }

    [Fact]
    public async Task Tpm_on_a_group_of_one_deployment_refuses_once_this_minutes_tokens_are_spent()
    {
        // The first answer's usage (prompt + 40 completion tokens) spends most of the minute's 50; the second prompt no longer fits.
        await using var gateway = await GatewayInstance.StartAsync(Group("solo", _first.BaseUrl, "tpm: 50"));

        using var first = await ChatAsync(gateway, "solo", ""","fake_tokens":40""");
        using var second = await ChatAsync(gateway, "solo");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await ErrorAssert.IsOpenAiErrorAsync(second, 429);
        AssertRetryAfterWithinAMinute(second);
        Assert.Equal(1, _first.CountFor("/v1/chat/completions"));
    }

    [Fact]
    public async Task Max_parallel_requests_on_a_group_of_one_deployment_refuses_what_does_not_fit()
    {
        _first.Options.Latency = TimeSpan.FromMilliseconds(1500);
        await using var gateway = await GatewayInstance.StartAsync(Group("solo", _first.BaseUrl, "max_parallel_requests: 1"));

        var slow = ChatAsync(gateway, "solo");
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(_first.CountFor("/v1/chat/completions") == 1), TimeSpan.FromSeconds(10)));
        using var refused = await ChatAsync(gateway, "solo");
        using var served = await slow;

        await ErrorAssert.IsOpenAiErrorAsync(refused, 429);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task A_fallback_group_of_one_deployment_over_its_rpm_is_not_called()
    {
        _first.Options.FailStatus = 500;
        var config = $$"""
            model_list:
              - model_name: primary
                litellm_params:
                  model: hosted_vllm/primary
                  api_base: {{_first.BaseUrl}}
              - model_name: backup
                litellm_params:
                  model: hosted_vllm/backup
                  api_base: {{_second.BaseUrl}}
                  rpm: 1
            router_settings:
              num_retries: 0
              fallbacks: [{"primary": ["backup"]}]
            general_settings:
              master_key: {{Configs.MasterKey}}
            """;
        await using var gateway = await GatewayInstance.StartAsync(config);

        using var first = await ChatAsync(gateway, "primary");
        using var second = await ChatAsync(gateway, "primary");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("1", first.Headers.GetValues("x-litellm-attempted-fallbacks").Single());
        await ErrorAssert.IsOpenAiErrorAsync(second, 429);
        Assert.Equal(1, _second.CountFor("/v1/chat/completions"));
    }

    [Fact]
    public async Task Order_two_serves_while_order_one_is_over_its_rpm()
    {
        var config = $$"""
            model_list:
              - model_name: tiered
                litellm_params:
                  model: hosted_vllm/primary
                  api_base: {{_first.BaseUrl}}
                  order: 1
                  rpm: 1
              - model_name: tiered
                litellm_params:
                  model: hosted_vllm/secondary
                  api_base: {{_second.BaseUrl}}
                  order: 2
            general_settings:
              master_key: {{Configs.MasterKey}}
            """;
        await using var gateway = await GatewayInstance.StartAsync(config);

        for (var i = 0; i < 3; i++)
        {
            using var response = await ChatAsync(gateway, "tiered");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(1, _first.CountFor("/v1/chat/completions"));
        Assert.Equal(2, _second.CountFor("/v1/chat/completions"));
    }

    [Fact]
    public async Task Upstream_gets_its_own_host_the_deployment_key_and_no_client_credential_or_header()
    {
        var config = Group("chat", _first.BaseUrl, $"api_key: {Configs.UpstreamKey}") + "  litellm_key_header_name: x-gateway-key\n";
        await using var gateway = await GatewayInstance.StartAsync(config);
        using var request = Chat(gateway, "chat", key: null);
        request.Headers.Add("x-gateway-key", Configs.MasterKey);
        request.Headers.Add("OpenAI-Organization", "org-tenant-picks-the-bill");
        request.Headers.Add("OpenAI-Project", "proj-x");
        request.Headers.Add("X-Forwarded-For", "10.1.2.3");
        request.Headers.Add("Metadata-Flavor", "Google");
        request.Headers.Add("Cookie", "session=abc");
        request.Headers.Add("x-trace-id", "trace-1");
        request.Headers.Add("x-pass-x-tenant-route", "blue");
        request.Headers.Add("x-pass-authorization", "Bearer smuggled");
        request.Headers.Host = "gateway.example.com";

        using var response = await gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var headers = _first.Requests.Single().Headers;
        Assert.Equal($"127.0.0.1:{_first.Port}", headers["Host"]);
        Assert.Equal("Bearer " + Configs.UpstreamKey, headers["Authorization"]);
        Assert.Equal("blue", headers["x-tenant-route"]);
        foreach (var name in new[] { "x-gateway-key", "OpenAI-Organization", "OpenAI-Project", "X-Forwarded-For", "Metadata-Flavor", "Cookie", "x-trace-id", "x-pass-x-tenant-route" })
        {
            Assert.False(headers.ContainsKey(name), $"{name} reached the upstream");
        }

        Assert.DoesNotContain(headers.Values, value => value.Contains(Configs.MasterKey, StringComparison.Ordinal) || value.Contains("smuggled", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_forward_client_headers_the_group_gets_x_headers_but_never_credentials()
    {
        var config = Group("chat", _first.BaseUrl, $"api_key: {Configs.UpstreamKey}")
            + "  litellm_key_header_name: x-gateway-key\nlitellm_settings:\n  model_group_settings:\n    forward_client_headers_to_llm_api: [chat]\n";
        await using var gateway = await GatewayInstance.StartAsync(config);
        using var request = Chat(gateway, "chat", key: null);
        request.Headers.Add("x-gateway-key", Configs.MasterKey);
        request.Headers.Add("x-trace-id", "trace-1");
        request.Headers.Add("anthropic-beta", "prompt-caching-2024-07-31");
        request.Headers.Add("x-stainless-os", "Linux");
        request.Headers.Add("x-api-key", "sk-tenant-own");
        request.Headers.Add("x-litellm-tags", "a,b");
        request.Headers.Add("X-Forwarded-For", "10.1.2.3");

        using var response = await gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var headers = _first.Requests.Single().Headers;
        Assert.Equal("trace-1", headers["x-trace-id"]);
        Assert.Equal("prompt-caching-2024-07-31", headers["anthropic-beta"]);
        foreach (var name in new[] { "x-gateway-key", "x-stainless-os", "x-api-key", "x-litellm-tags", "X-Forwarded-For" })
        {
            Assert.False(headers.ContainsKey(name), $"{name} reached the upstream");
        }

        Assert.Equal("Bearer " + Configs.UpstreamKey, headers["Authorization"]);
    }

    [Fact]
    public async Task A_401_while_client_headers_were_forwarded_does_not_cool_the_deployment_down()
    {
        // Alone in its group, a deployment answering 401 for its own key is taken out at once (LiteLLM's rule); one
        // that refused headers a client sent along is not.
        var config = Group("chat", _first.BaseUrl, "") + "litellm_settings:\n  model_group_settings:\n    forward_client_headers_to_llm_api: [chat]\n";
        await using var gateway = await GatewayInstance.StartAsync(config);
        using var request = Chat(gateway, "chat", extra: ""","fake_status":401""");
        request.Headers.Add("x-tenant-token", "bad");

        using var refused = await gateway.Http.SendAsync(request);
        using var next = await ChatAsync(gateway, "chat");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task Cookies_cors_grants_the_upstreams_organisation_and_server_do_not_come_back()
    {
        _first.Options.ResponseHeaders["Set-Cookie"] = "upstream=1; Path=/";
        _first.Options.ResponseHeaders["Access-Control-Allow-Origin"] = "*";
        _first.Options.ResponseHeaders["Access-Control-Allow-Credentials"] = "true";
        _first.Options.ResponseHeaders["openai-organization"] = "org-upstream";
        _first.Options.ResponseHeaders["Server"] = "uvicorn";
        _first.Options.ResponseHeaders["x-request-id"] = "upstream-request-1";
        await using var gateway = await GatewayInstance.StartAsync(Group("chat", _first.BaseUrl, ""));

        using var response = await ChatAsync(gateway, "chat");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        foreach (var name in new[] { "Set-Cookie", "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "openai-organization", "Server" })
        {
            Assert.False(response.Headers.Contains(name), $"{name} came back from the upstream");
        }

        Assert.Equal("upstream-request-1", response.Headers.GetValues("x-request-id").Single());
    }

    [Theory]
    [InlineData("a string value", "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"caf\u00ff\"}]}")]
    [InlineData("a member name", "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"x\u00ff\":1}")]
    public async Task A_body_that_is_not_utf8_is_refused_before_any_stage(string where, string latin1)
    {
        Assert.NotEmpty(where);
        await using var gateway = await GatewayInstance.StartAsync(Group("chat", _first.BaseUrl, ""));
        // Latin-1 bytes: ÿ is the lone byte 0xFF, which UTF-8 never uses.
        var bytes = Encoding.Latin1.GetBytes(latin1);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Configs.MasterKey);

        using var response = await gateway.Http.SendAsync(request);

        var message = await ErrorAssert.IsOpenAiErrorAsync(response, 400);
        Assert.Contains($"offset {Array.IndexOf(bytes, (byte)0xFF)}", message, StringComparison.Ordinal);
        Assert.Equal(0, _first.RequestCount);
    }

    private static void AssertRetryAfterWithinAMinute(HttpResponseMessage response)
    {
        var retryAfter = int.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 60);
    }

    private static string Group(string name, string baseUrl, string extraParams) => $$"""
        model_list:
          - model_name: {{name}}
            litellm_params:
              model: hosted_vllm/{{name}}
              api_base: {{baseUrl}}
              {{extraParams}}
        router_settings:
          num_retries: 0
        general_settings:
          master_key: {{Configs.MasterKey}}

        """;

    private static HttpRequestMessage Chat(GatewayInstance gateway, string model, string extra = "", string? key = Configs.MasterKey) =>
        gateway.Post("/v1/chat/completions", $$"""{"model":"{{model}}","messages":[{{Hello}}]{{extra}}}""", key);

    private static Task<HttpResponseMessage> ChatAsync(GatewayInstance gateway, string model, string extra = "") =>
        gateway.Http.SendAsync(Chat(gateway, model, extra));
}
