using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests;

/// <summary>/metrics after known traffic: exact counter deltas and label sets, under LiteLLM's metric names.</summary>
public sealed class MetricsTests : IAsyncLifetime
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

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Requests_tokens_latency_and_deployment_series_match_the_traffic_sent()
    {
        var upstream = await UpstreamAsync(new FakeUpstreamOptions());
        var gateway = await GatewayAsync(Group("chat", "dep-a", upstream));

        var promptTokens = 0;
        var completionTokens = 0;
        for (var i = 0; i < 3; i++)
        {
            using var response = await ChatAsync(gateway, "chat");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            promptTokens += json.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
            completionTokens += json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        }

        using (var stream = await ChatAsync(gateway, "chat", stream: true))
        {
            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            await stream.Content.ReadAsStringAsync();
        }

        using (var unknown = await ChatAsync(gateway, "no-such-group"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        }

        using (var badKey = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions", "{}", "sk-wrong-key")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, badKey.StatusCode);
        }

        var metrics = await PrometheusText.ScrapeAsync(gateway.Http);
        Assert.Equal(4, metrics.Value("litellm_proxy_total_requests_metric_total", ("requested_model", "chat"), ("status_code", "200")));
        Assert.Equal(1, metrics.Value("litellm_proxy_total_requests_metric_total", ("status_code", "400")));
        Assert.Equal(1, metrics.Value("litellm_proxy_failed_requests_metric_total", ("exception_status", "400"), ("exception_class", "BadRequestError")));
        Assert.Equal(1, metrics.Value("litellm_proxy_failed_requests_metric_total", ("exception_status", "401"), ("exception_class", "AuthenticationError")));
        Assert.Equal(0, metrics.Value("litellm_proxy_failed_requests_metric_total", ("requested_model", "chat")));

        // The three JSON answers' usage exactly; the stream adds its own (vLLM sends a usage chunk when asked, else one per chunk).
        var input = metrics.Value("litellm_input_tokens_metric_total", ("requested_model", "chat"), ("model", "chat"));
        var output = metrics.Value("litellm_output_tokens_metric_total", ("requested_model", "chat"), ("model", "chat"));
        Assert.True(input > promptTokens, $"input tokens {input} should exceed the three JSON answers' {promptTokens}");
        Assert.True(output > completionTokens, $"output tokens {output} should exceed the three JSON answers' {completionTokens}");
        Assert.Equal(input + output, metrics.Value("litellm_total_tokens_metric_total", ("requested_model", "chat")));

        Assert.Equal(4, metrics.Value("litellm_request_total_latency_metric_count", ("requested_model", "chat"), ("model", "chat")));
        Assert.Equal(4, metrics.Value("litellm_llm_api_latency_metric_count", ("model", "chat")));
        Assert.Equal(1, metrics.Value("litellm_llm_api_time_to_first_token_metric_count", ("model", "chat")));
        var deployment = (("model_id", "dep-a"), ("litellm_model_name", "chat"), ("api_provider", "hosted_vllm"), ("api_base", upstream.BaseUrl));
        Assert.Equal(4, metrics.Value("litellm_deployment_total_requests_total", deployment.Item1, deployment.Item2, deployment.Item3, deployment.Item4));
        Assert.Equal(4, metrics.Value("litellm_deployment_success_responses_total", deployment.Item1));
        Assert.Equal(0, metrics.Value("litellm_deployment_state", deployment.Item1));
        Assert.Equal(3, metrics.Value("litellm_deployment_latency_per_output_token_count", deployment.Item1));

        // Every K label LiteLLM has is present on the request counter.
        var sample = Assert.Single(metrics.Matching("litellm_proxy_total_requests_metric_total", ("requested_model", "chat")));
        Assert.Equal(
            ["api_key_alias", "end_user", "hashed_api_key", "requested_model", "status_code", "team", "team_alias", "user"],
            sample.Labels.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(0, metrics.Value("gateway_in_flight_requests") - 1); // the scrape itself is in flight
        // Scrapes and probes are not proxy requests.
        using (var probe = await gateway.Http.GetAsync("/health/readiness"))
        {
            Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        }

        var again = await PrometheusText.ScrapeAsync(gateway.Http);
        Assert.Equal(6, again.Value("litellm_proxy_total_requests_metric_total"));
    }

    [Fact]
    public async Task A_failing_deployment_and_a_cooled_down_one_show_in_their_own_series()
    {
        var healthy = await UpstreamAsync(new FakeUpstreamOptions());
        var failing = await UpstreamAsync(new FakeUpstreamOptions { FailStatus = 500 });
        var limited = await UpstreamAsync(new FakeUpstreamOptions { FailStatus = 429 });
        var gateway = await GatewayAsync(
            Group("g", "dep-ok", healthy, "      order: 3") + Group("g", "dep-500", failing, "      order: 1") + Group("g", "dep-429", limited, "      order: 2"),
            "router_settings:\n  num_retries: 3\n  retry_after: 0\n  allowed_fails: 100\n");

        using (var response = await ChatAsync(gateway, "g"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("dep-ok", response.Headers.GetValues("x-litellm-model-id").Single());
        }

        var metrics = await PrometheusText.ScrapeAsync(gateway.Http);
        Assert.Equal(1, metrics.Value("litellm_deployment_failure_responses_total", ("model_id", "dep-500"), ("exception_status", "500"), ("exception_class", "InternalServerError")));
        Assert.Equal(1, metrics.Value("litellm_deployment_failure_responses_total", ("model_id", "dep-429"), ("exception_status", "429"), ("exception_class", "RateLimitError")));
        Assert.Equal(1, metrics.Value("litellm_deployment_success_responses_total", ("model_id", "dep-ok")));
        Assert.Equal(0, metrics.Value("litellm_deployment_success_responses_total", ("model_id", "dep-500")));
        // allowed_fails is high, so the 500 only marks a partial outage; a 429 cools the deployment down at once.
        Assert.Equal(1, metrics.Value("litellm_deployment_state", ("model_id", "dep-500")));
        Assert.Equal(2, metrics.Value("litellm_deployment_state", ("model_id", "dep-429")));
        Assert.Equal(0, metrics.Value("litellm_deployment_state", ("model_id", "dep-ok")));
        Assert.Equal(1, metrics.Value("litellm_deployment_cooled_down_total", ("model_id", "dep-429"), ("exception_status", "429")));
        Assert.Equal(0, metrics.Value("litellm_deployment_cooled_down_total", ("model_id", "dep-500")));
        Assert.Equal(2, metrics.Value("gateway_retries_total", ("model_group", "g")));
        Assert.Equal(1, metrics.Value("litellm_proxy_total_requests_metric_total", ("requested_model", "g"), ("status_code", "200")));
    }

    [Fact]
    public async Task Fallbacks_are_counted_as_successful_or_failed()
    {
        var failing = await UpstreamAsync(new FakeUpstreamOptions { FailStatus = 500 });
        var healthy = await UpstreamAsync(new FakeUpstreamOptions());
        var gateway = await GatewayAsync(
            Group("primary", "p1", failing) + Group("backup", "b1", healthy) + Group("dead", "d1", failing),
            "router_settings:\n  num_retries: 0\n  fallbacks: [{\"primary\": [\"backup\"]}, {\"dead\": [\"primary\"]}]\n");

        using (var ok = await ChatAsync(gateway, "primary"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var failed = await ChatAsync(gateway, "dead"))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        }

        var metrics = await PrometheusText.ScrapeAsync(gateway.Http);
        Assert.Equal(1, metrics.Value("litellm_deployment_successful_fallbacks_total", ("requested_model", "primary"), ("fallback_model", "backup")));
        Assert.Equal(1, metrics.Value("litellm_deployment_failed_fallbacks_total", ("requested_model", "dead"), ("fallback_model", "primary"), ("exception_status", "500")));
    }

    [Fact]
    public async Task Config_reloads_are_counted_by_result()
    {
        var upstream = await UpstreamAsync(new FakeUpstreamOptions());
        var gateway = await GatewayAsync(Group("chat", "dep-a", upstream));
        var before = await PrometheusText.ScrapeAsync(gateway.Http);
        Assert.Equal(1, before.Value("gateway_config_version"));

        await File.WriteAllTextAsync(gateway.ConfigPath, Yaml(Group("chat", "dep-a", upstream) + Group("more", "dep-b", upstream)));
        Assert.True(await Eventually.TrueAsync(
            async () => (await PrometheusText.ScrapeAsync(gateway.Http)).Value("gateway_config_reloads_total", ("result", "success")) == 1, TimeSpan.FromSeconds(15)));
        await File.WriteAllTextAsync(gateway.ConfigPath, "model_list: [oops");
        Assert.True(await Eventually.TrueAsync(
            async () => (await PrometheusText.ScrapeAsync(gateway.Http)).Value("gateway_config_reloads_total", ("result", "failure")) >= 1, TimeSpan.FromSeconds(15)));
        var after = await PrometheusText.ScrapeAsync(gateway.Http);
        Assert.Equal(2, after.Value("gateway_config_version"));
    }

    [Fact]
    public async Task Metrics_port_keeps_metrics_off_the_main_port()
    {
        var upstream = await UpstreamAsync(new FakeUpstreamOptions());
        var port = FreePort();
        var gateway = await GatewayInstance.StartAsync(Yaml(Group("chat", "dep-a", upstream)), extraArgs: ["--metrics-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        _gateways.Add(gateway);
        using (var response = await ChatAsync(gateway, "chat"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var onMain = await gateway.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, onMain.StatusCode);
        using var metricsClient = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var metrics = await PrometheusText.ScrapeAsync(metricsClient);
        Assert.Equal(1, metrics.Value("litellm_proxy_total_requests_metric_total", ("requested_model", "chat"), ("status_code", "200")));
        using var proxiedOnMetricsPort = await metricsClient.PostAsync("/v1/chat/completions", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.NotFound, proxiedOnMetricsPort.StatusCode);
    }

    [Fact]
    public async Task No_metrics_flag_removes_the_endpoint()
    {
        var upstream = await UpstreamAsync(new FakeUpstreamOptions());
        var gateway = await GatewayInstance.StartAsync(Yaml(Group("chat", "dep-a", upstream)), extraArgs: ["--no-metrics"]);
        _gateways.Add(gateway);
        using var response = await gateway.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task No_secret_appears_in_metrics()
    {
        var upstream = await UpstreamAsync(new FakeUpstreamOptions());
        var gateway = await GatewayAsync(Group("chat", "dep-a", upstream, $"      api_key: {Configs.UpstreamKey}"));
        using (var response = await ChatAsync(gateway, "chat"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var bad = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions", "{}", "sk-presented-but-wrong-0000")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        }

        var metrics = await PrometheusText.ScrapeAsync(gateway.Http);
        Assert.Contains("litellm_proxy_total_requests_metric_total", metrics.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(Configs.MasterKey, metrics.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(Configs.UpstreamKey, metrics.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-presented-but-wrong", metrics.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_grafana_dashboard_only_uses_metrics_the_gateway_exposes()
    {
        var upstream = await UpstreamAsync(new FakeUpstreamOptions());
        var gateway = await GatewayAsync(Group("chat", "dep-a", upstream));
        using (var response = await ChatAsync(gateway, "chat", stream: true))
        {
            await response.Content.ReadAsStringAsync();
        }

        var metrics = await PrometheusText.ScrapeAsync(gateway.Http);
        var declared = metrics.Text.Split('\n')
            .Where(line => line.StartsWith("# TYPE ", StringComparison.Ordinal))
            .Select(line => line.Split(' ')[2])
            .ToHashSet(StringComparer.Ordinal);
        using var dashboard = JsonDocument.Parse(RepoFiles.Read("compose/grafana/llm-gateway.json"));
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (!panel.TryGetProperty("targets", out var targets))
            {
                continue;
            }

            foreach (var target in targets.EnumerateArray())
            {
                foreach (System.Text.RegularExpressions.Match match in System.Text.RegularExpressions.Regex.Matches(
                    target.GetProperty("expr").GetString()!, @"\b(?:litellm|gateway)_[a-z_]+(?=\s*[{\[)])"))
                {
                    used.Add(System.Text.RegularExpressions.Regex.Replace(match.Value, "_(bucket|sum|count)$", ""));
                }
            }
        }

        Assert.True(used.Count >= 15, $"the dashboard should chart the main series, found {used.Count}");
        var missing = string.Join(", ", used.Where(name => !declared.Contains(name)));
        Assert.True(missing.Length == 0, "the dashboard charts series the gateway does not expose: " + missing);
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Virtual_key_series_carry_its_hash_and_alias_spend_and_remaining_budget_but_never_the_key()
    {
        await using var keys = await Keys.KeysGateway.StartAsync();
        var (key, token) = await keys.GenerateAsync("""{"key_alias":"metrics-key","max_budget":1000,"rpm_limit":100,"tpm_limit":100000}""");
        for (var i = 0; i < 2; i++)
        {
            using var response = await keys.ChatAsync(key);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var stream = await keys.Http.SendAsync(keys.Gateway.Post("/v1/chat/completions",
            """{"model":"qwen3-8b","stream":true,"messages":[{"role":"user","content":"stream it"}]}""", key)))
        {
            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            await stream.Content.ReadAsStringAsync();
        }

        var spend = (await keys.KeyInfoAsync(key)).GetProperty("spend").GetDouble();
        Assert.True(spend > 0);
        var metrics = await PrometheusText.ScrapeAsync(keys.Http);
        var byKey = (("hashed_api_key", token), ("api_key_alias", "metrics-key"));
        Assert.Equal(3, metrics.Value("litellm_proxy_total_requests_metric_total", byKey.Item1, byKey.Item2, ("status_code", "200")));
        Assert.Equal(spend, metrics.Value("litellm_spend_metric_total", byKey.Item1, byKey.Item2), 9);
        Assert.Equal(1000, metrics.Value("litellm_api_key_max_budget_metric", byKey.Item1, byKey.Item2));
        Assert.Equal(1000 - spend, metrics.Value("litellm_remaining_api_key_budget_metric", byKey.Item1, byKey.Item2), 9);
        Assert.Equal(97, metrics.Value("litellm_remaining_api_key_requests_for_model", byKey.Item1, ("model", "qwen3-8b")));
        Assert.InRange(metrics.Value("litellm_remaining_api_key_tokens_for_model", byKey.Item1, ("model", "qwen3-8b")), 1, 100000 - 1);
        Assert.Equal(3, metrics.Value("litellm_deployment_success_responses_total", byKey.Item1));
        Assert.True(metrics.Value("gateway_spend_log_buffer_capacity") > 0);
        Assert.DoesNotContain(key, metrics.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(Configs.MasterKey, metrics.Text, StringComparison.Ordinal);
    }

    private async Task<FakeUpstreamServer> UpstreamAsync(FakeUpstreamOptions options)
    {
        var upstream = await FakeUpstreamServer.StartAsync(options);
        _upstreams.Add(upstream);
        return upstream;
    }

    private async Task<GatewayInstance> GatewayAsync(string deployments, string extra = "")
    {
        var gateway = await GatewayInstance.StartAsync(Yaml(deployments, extra));
        _gateways.Add(gateway);
        return gateway;
    }

    private static string Yaml(string deployments, string extra = "") =>
        $"model_list:\n{deployments}\n{extra}\ngeneral_settings:\n  master_key: {Configs.MasterKey}\n";

    private static string Group(string group, string id, FakeUpstreamServer upstream, string extra = "") => $"""
          - model_name: {group}
            litellm_params:
              model: hosted_vllm/{id}-model
              api_base: {upstream.BaseUrl}
        {extra}
            model_info:
              id: {id}

        """;

    private static async Task<HttpResponseMessage> ChatAsync(GatewayInstance gateway, string model, bool stream = false)
    {
        var body = $$"""{"messages":{{Hi}},"model":"{{model}}"{{(stream ? ",\"stream\":true" : "")}}}""";
        return await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions", body, Configs.MasterKey));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
