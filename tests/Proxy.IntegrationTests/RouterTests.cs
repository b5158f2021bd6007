using System.Text.Json;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests;

public sealed class RouterTests : IAsyncLifetime
{
    private const string Hi = """[{"role":"user","content":"hi"}]""";
    private readonly List<FakeUpstreamServer> _upstreams = [];
    private readonly List<GatewayInstance> _gateways = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            await gateway.DisposeAsync();
        }

        foreach (var upstream in _upstreams)
        {
            await upstream.DisposeAsync();
        }
    }

    private async Task<FakeUpstreamServer> UpstreamAsync()
    {
        var upstream = await FakeUpstreamServer.StartAsync();
        _upstreams.Add(upstream);
        return upstream;
    }

    private async Task<GatewayInstance> GatewayAsync(string yaml)
    {
        var gateway = await GatewayInstance.StartAsync(yaml + $"\ngeneral_settings:\n  master_key: {Configs.MasterKey}\n");
        _gateways.Add(gateway);
        return gateway;
    }

    private static string Deployment(string group, string id, FakeUpstreamServer upstream, string extra = "", string info = "") => $"""
          - model_name: {group}
            litellm_params:
              model: hosted_vllm/{id}-model
              api_base: {upstream.BaseUrl}
        {extra}
            model_info:
              id: {id}
        {info}

        """;

    private static async Task<HttpResponseMessage> ChatAsync(GatewayInstance gateway, string model, string extra = "", bool stream = false)
    {
        var body = $$"""{"messages":{{Hi}},"model":"{{model}}"{{(stream ? ",\"stream\":true" : "")}}{{extra}}}""";
        return await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions", body, Configs.MasterKey));
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : "";

    [Fact]
    public async Task Cost_based_routing_sends_every_request_to_the_cheapest_deployment()
    {
        var cheap = await UpstreamAsync();
        var dear = await UpstreamAsync();
        var gateway = await GatewayAsync("model_list:\n"
            + Deployment("g", "dear", dear, "      input_cost_per_token: 0.00002\n      output_cost_per_token: 0.00002")
            + Deployment("g", "cheap", cheap, "      input_cost_per_token: 0.000001\n      output_cost_per_token: 0.000001")
            + "router_settings:\n  routing_strategy: cost-based-routing\n");

        for (var i = 0; i < 10; i++)
        {
            using var response = await ChatAsync(gateway, "g");
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal("cheap", Header(response, "x-litellm-model-id"));
        }

        Assert.Equal(10, cheap.RequestCount);
        Assert.Equal(0, dear.RequestCount);
    }

    [Fact]
    public async Task Simple_shuffle_spreads_requests_by_weight()
    {
        var heavy = await UpstreamAsync();
        var light = await UpstreamAsync();
        var gateway = await GatewayAsync("model_list:\n"
            + Deployment("g", "heavy", heavy, "      weight: 0.9")
            + Deployment("g", "light", light, "      weight: 0.1"));

        for (var i = 0; i < 200; i++)
        {
            using var response = await ChatAsync(gateway, "g");
            Assert.Equal(200, (int)response.StatusCode);
        }

        Assert.InRange(heavy.RequestCount, 150, 200);
        Assert.InRange(light.RequestCount, 1, 50);
    }

    [Fact]
    public async Task A_deployment_killed_under_load_costs_no_client_request()
    {
        var first = await UpstreamAsync();
        var second = await UpstreamAsync();
        var gateway = await GatewayAsync("model_list:\n" + Deployment("g", "first", first) + Deployment("g", "second", second)
            + "router_settings:\n  routing_strategy: least-busy\n  num_retries: 2\n");
        var failures = 0;
        var done = 0;
        async Task ClientAsync()
        {
            for (var i = 0; i < 100; i++)
            {
                using var response = await ChatAsync(gateway, "g");
                if ((int)response.StatusCode != 200)
                {
                    Interlocked.Increment(ref failures);
                }

                Interlocked.Increment(ref done);
            }
        }

        var clients = Enumerable.Range(0, 6).Select(_ => Task.Run(ClientAsync)).ToArray();
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(Volatile.Read(ref done) > 60), TimeSpan.FromSeconds(20)));
        await first.StopAsync();
        var doneAtKill = Volatile.Read(ref done);
        var firstServed = first.RequestCount;
        await Task.WhenAll(clients);

        Assert.Equal(0, failures);
        Assert.Equal(600, done);
        // The kill happened with load still to come, and everything after it went to the survivor.
        Assert.True(doneAtKill < 540, $"the kill came after {doneAtKill} of 600 requests");
        Assert.Equal(firstServed, first.RequestCount);
        Assert.True(second.RequestCount >= 600 - doneAtKill, $"the surviving deployment served only {second.RequestCount} after the kill at {doneAtKill}");
    }

    [Fact]
    public async Task Rate_limited_deployment_is_cooled_down_and_returns_after_cooldown_time()
    {
        var limited = await UpstreamAsync();
        var spare = await UpstreamAsync();
        limited.Options.FailStatus = 429;
        var gateway = await GatewayAsync("model_list:\n"
            + Deployment("g", "limited", limited, "      order: 1")
            + Deployment("g", "spare", spare, "      order: 2")
            + "router_settings:\n  cooldown_time: 1\n");

        using (var response = await ChatAsync(gateway, "g"))
        {
            // The 429 is retried on the other deployment at once, and the limited one is taken out.
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal("spare", Header(response, "x-litellm-model-id"));
            Assert.Equal("1", Header(response, "x-litellm-attempted-retries"));
        }

        for (var i = 0; i < 5; i++)
        {
            using var response = await ChatAsync(gateway, "g");
            Assert.Equal("spare", Header(response, "x-litellm-model-id"));
        }

        Assert.Equal(1, limited.RequestCount);
        limited.Options.FailStatus = null;
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            using var response = await ChatAsync(gateway, "g");
            return Header(response, "x-litellm-model-id") == "limited";
        }, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task All_deployments_cooling_down_is_a_429_no_deployments_available()
    {
        var a = await UpstreamAsync();
        var b = await UpstreamAsync();
        a.Options.FailStatus = 429;
        b.Options.FailStatus = 429;
        var gateway = await GatewayAsync("model_list:\n" + Deployment("g", "a", a) + Deployment("g", "b", b)
            + "router_settings:\n  cooldown_time: 30\n");

        using var first = await ChatAsync(gateway, "g");
        using var second = await ChatAsync(gateway, "g");

        await ErrorAssert.IsOpenAiErrorAsync(first, 429);
        var message = await ErrorAssert.IsOpenAiErrorAsync(second, 429);
        Assert.Contains("No deployments available for selected model", message, StringComparison.Ordinal);
        Assert.Equal("30", second.Headers.GetValues("Retry-After").Single());
        Assert.Equal(2, a.RequestCount + b.RequestCount);
    }

    [Fact]
    public async Task Retry_policy_sets_the_number_of_retries_per_error_class()
    {
        var upstream = await UpstreamAsync();
        var gateway = await GatewayAsync("model_list:\n" + Deployment("g", "only", upstream)
            + "router_settings:\n  num_retries: 0\n  retry_policy:\n    InternalServerErrorRetries: 2\n");

        using var serverError = await ChatAsync(gateway, "g", ",\"fake_status\":500");
        Assert.Equal(500, (int)serverError.StatusCode);
        Assert.Equal(3, upstream.RequestCount);
        Assert.Equal("2", Header(serverError, "x-litellm-attempted-retries"));

        upstream.Reset();
        using var unavailable = await ChatAsync(gateway, "g", ",\"fake_status\":503");
        Assert.Equal(503, (int)unavailable.StatusCode);
        Assert.Equal(1, upstream.RequestCount);

        upstream.Reset();
        using var badRequest = await ChatAsync(gateway, "g", ",\"fake_status\":400");
        Assert.Equal(400, (int)badRequest.StatusCode);
        Assert.Equal(1, upstream.RequestCount);
    }

    [Fact]
    public async Task Request_num_retries_overrides_the_router_setting()
    {
        var upstream = await UpstreamAsync();
        var gateway = await GatewayAsync("model_list:\n" + Deployment("g", "only", upstream) + "router_settings:\n  num_retries: 0\n");

        using var response = await ChatAsync(gateway, "g", ",\"fake_status\":503,\"num_retries\":1");

        Assert.Equal(503, (int)response.StatusCode);
        Assert.Equal(2, upstream.RequestCount);
    }

    [Fact]
    public async Task Mock_testing_fallbacks_walks_the_fallback_chain()
    {
        var d = await UpstreamAsync();
        var q = await UpstreamAsync();
        var l = await UpstreamAsync();
        var gateway = await GatewayAsync("model_list:\n" + Deployment("deepseek-r1", "d", d) + Deployment("qwen3", "q", q) + Deployment("llama3", "l", l)
            + "router_settings:\n  fallbacks:\n    - deepseek-r1: [qwen3, llama3]\n    - qwen3: [llama3]\n  default_fallbacks: [llama3]\n");

        using var response = await ChatAsync(gateway, "deepseek-r1", ",\"mock_testing_fallbacks\":true");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("qwen3", Header(response, "x-litellm-model-group"));
        Assert.Equal("1", Header(response, "x-litellm-attempted-fallbacks"));
        Assert.Equal(0, d.RequestCount);
        Assert.Equal(1, q.RequestCount);
        using var forwarded = JsonDocument.Parse(q.Requests.Single(r => r.Method == "POST").Body);
        Assert.False(forwarded.RootElement.TryGetProperty("mock_testing_fallbacks", out _));

        using var fromQwen = await ChatAsync(gateway, "qwen3", ",\"mock_testing_fallbacks\":true");
        Assert.Equal("llama3", Header(fromQwen, "x-litellm-model-group"));
    }

    [Fact]
    public async Task Default_fallbacks_catch_a_group_without_its_own_entry()
    {
        var broken = await UpstreamAsync();
        var backup = await UpstreamAsync();
        broken.Options.FailStatus = 500;
        var gateway = await GatewayAsync("model_list:\n" + Deployment("broken", "b", broken) + Deployment("llama3", "l", backup)
            + "router_settings:\n  num_retries: 1\n  default_fallbacks: [llama3]\n");

        using var response = await ChatAsync(gateway, "broken");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("llama3", Header(response, "x-litellm-model-group"));
        Assert.Equal(2, broken.RequestCount);
    }

    [Theory]
    [InlineData("mock_testing_context_window_fallback")]
    [InlineData("mock_testing_context_fallbacks")]
    [InlineData("mock_testing_context_window_fallbacks")]
    public async Task Context_window_mock_flag_uses_context_window_fallbacks_under_every_spelling(string flag)
    {
        var d = await UpstreamAsync();
        var q = await UpstreamAsync();
        var l = await UpstreamAsync();
        var gateway = await GatewayAsync("model_list:\n" + Deployment("deepseek-r1", "d", d) + Deployment("qwen3", "q", q) + Deployment("llama3", "l", l)
            + "router_settings:\n  fallbacks:\n    - deepseek-r1: [llama3]\nlitellm_settings:\n  context_window_fallbacks:\n    - deepseek-r1: [qwen3]\n");

        using var response = await ChatAsync(gateway, "deepseek-r1", $",\"{flag}\":true");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("qwen3", Header(response, "x-litellm-model-group"));
    }

    [Fact]
    public async Task A_real_context_length_error_falls_back_to_the_bigger_model_without_retries()
    {
        var small = await UpstreamAsync();
        var big = await UpstreamAsync();
        small.Options.MaxModelLen = 20;
        var gateway = await GatewayAsync("model_list:\n" + Deployment("small", "s", small) + Deployment("big", "b", big)
            + "router_settings:\n  num_retries: 3\n  context_window_fallbacks:\n    - small: [big]\n");
        var prompt = new string('x', 400);

        using var response = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions",
            $$"""{"messages":[{"role":"user","content":"{{prompt}}"}],"model":"small"}""", Configs.MasterKey));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("big", Header(response, "x-litellm-model-group"));
        Assert.Equal(1, small.RequestCount);
    }

    [Fact]
    public async Task Pre_call_checks_skip_a_deployment_whose_context_is_too_small()
    {
        var tiny = await UpstreamAsync();
        var roomy = await UpstreamAsync();
        var gateway = await GatewayAsync("model_list:\n"
            + Deployment("g", "tiny", tiny, "      order: 1", "      max_input_tokens: 50")
            + Deployment("g", "roomy", roomy, "      order: 2", "      max_input_tokens: 100000")
            + "router_settings:\n  enable_pre_call_checks: true\n");
        var prompt = string.Join(' ', Enumerable.Repeat("token", 300));

        using var longPrompt = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions",
            $$"""{"messages":[{"role":"user","content":"{{prompt}}"}],"model":"g"}""", Configs.MasterKey));
        using var shortPrompt = await ChatAsync(gateway, "g");

        Assert.Equal("roomy", Header(longPrompt, "x-litellm-model-id"));
        Assert.Equal("tiny", Header(shortPrompt, "x-litellm-model-id"));
        Assert.Equal(1, tiny.RequestCount);
    }

    [Fact]
    public async Task Pre_call_checks_with_no_big_enough_deployment_is_a_context_window_400()
    {
        var tiny = await UpstreamAsync();
        var gateway = await GatewayAsync("model_list:\n" + Deployment("g", "tiny", tiny, "", "      max_input_tokens: 20")
            + "router_settings:\n  enable_pre_call_checks: true\n");
        var prompt = string.Join(' ', Enumerable.Repeat("token", 300));

        using var response = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions",
            $$"""{"messages":[{"role":"user","content":"{{prompt}}"}],"model":"g"}""", Configs.MasterKey));

        Assert.Contains("ContextWindowExceededError", await ErrorAssert.IsOpenAiErrorAsync(response, 400), StringComparison.Ordinal);
        Assert.Equal(0, tiny.RequestCount);
    }

    [Fact]
    public async Task Mock_rate_limit_flag_is_retried_then_falls_back()
    {
        var d = await UpstreamAsync();
        var q = await UpstreamAsync();
        var gateway = await GatewayAsync("model_list:\n" + Deployment("deepseek-r1", "d1", d) + Deployment("deepseek-r1", "d2", d) + Deployment("qwen3", "q", q)
            + "router_settings:\n  retry_policy:\n    RateLimitErrorRetries: 5\n  fallbacks:\n    - deepseek-r1: [qwen3]\n");

        using var response = await ChatAsync(gateway, "deepseek-r1", ",\"mock_testing_rate_limit_error\":true");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("qwen3", Header(response, "x-litellm-model-group"));
        Assert.Equal(0, d.RequestCount);
    }

    [Fact]
    public async Task Mock_flags_can_be_disabled_for_production()
    {
        var d = await UpstreamAsync();
        var q = await UpstreamAsync();
        var gateway = await GatewayInstance.StartAsync("model_list:\n" + Deployment("deepseek-r1", "d", d) + Deployment("qwen3", "q", q)
            + "router_settings:\n  fallbacks:\n    - deepseek-r1: [qwen3]\n"
            + $"general_settings:\n  master_key: {Configs.MasterKey}\n  disable_mock_testing_flags: true\n");
        _gateways.Add(gateway);

        using var response = await ChatAsync(gateway, "deepseek-r1", ",\"mock_testing_fallbacks\":true");

        Assert.Equal("deepseek-r1", Header(response, "x-litellm-model-group"));
        Assert.Equal(1, d.RequestCount);
    }

    [Fact]
    public async Task Router_lb_config_loads_unchanged_and_walks_its_fallbacks()
    {
        var yaml = RepoFiles.Read("config/router-lb.yaml");
        var upstreams = new List<FakeUpstreamServer>();
        for (var port = 8001; port <= 8004; port++)
        {
            var upstream = await UpstreamAsync();
            upstreams.Add(upstream);
            yaml = yaml.Replace($"http://127.0.0.1:{port}/v1", upstream.BaseUrl, StringComparison.Ordinal);
        }

        await using var gateway = await GatewayInstance.StartAsync(yaml, new Dictionary<string, string?> { ["LITELLM_MASTER_KEY"] = "magedu.com" });
        using var plain = await gateway.Http.SendAsync(gateway.Post("/chat/completions",
            """{"model":"deepseek-r1","messages":[{"role":"user","content":"请用三句话介绍一下你自己。"}]}""", "magedu.com"));
        using var fallback = await gateway.Http.SendAsync(gateway.Post("/chat/completions",
            """{"model":"deepseek-r1","messages":[{"role":"user","content":"hi"}],"mock_testing_fallbacks":true}""", "magedu.com"));
        using var context = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions",
            """{"model":"deepseek-r1","messages":[{"role":"user","content":"hi"}],"mock_testing_context_window_fallback":true}""", "magedu.com"));

        Assert.Equal(200, (int)plain.StatusCode);
        Assert.StartsWith("deepseek-r1-0", Header(plain, "x-litellm-model-id"), StringComparison.Ordinal);
        Assert.Equal("qwen3", Header(fallback, "x-litellm-model-group"));
        Assert.Equal("qwen3", Header(context, "x-litellm-model-group"));
    }
}
