using System.Net;
using System.Net.Sockets;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests;

public sealed class ErrorTests : IAsyncLifetime
{
    private FakeUpstreamServer _upstream = null!;
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstreamServer.StartAsync();
        var deadPort = FreePort();
        var extra = $$"""
              timeout: 2
          - model_name: dead
            litellm_params:
              model: hosted_vllm/dead
              api_base: http://127.0.0.1:{{deadPort}}/v1
        """;
        _gateway = await GatewayInstance.StartAsync(Configs.SingleUpstream(_upstream.BaseUrl, extra, "  max_request_size_mb: 0.01"));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private Task<HttpResponseMessage> PostAsync(string json, string path = "/v1/chat/completions") =>
        _gateway.Http.SendAsync(_gateway.Post(path, json, Configs.MasterKey));

    [Trait("Category", TestCategories.AotSmoke)]
    [Theory]
    [InlineData("{\"model\": \"qwen3-8b\", \"messages\": [")]
    [InlineData("not json at all")]
    [InlineData("")]
    [InlineData("{\"model\":\"qwen3-8b\"} trailing")]
    public async Task Malformed_json_is_a_400(string body)
    {
        using var response = await PostAsync(body);
        await ErrorAssert.IsOpenAiErrorAsync(response, 400);
        Assert.Equal(0, _upstream.RequestCount);
    }

    [Fact]
    public async Task Json_that_is_not_an_object_is_a_400()
    {
        using var response = await PostAsync("[1,2,3]");
        Assert.Contains("JSON object", await ErrorAssert.IsOpenAiErrorAsync(response, 400), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_model_is_a_400_naming_the_parameter()
    {
        using var response = await PostAsync("""{"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Contains("model", await ErrorAssert.IsOpenAiErrorAsync(response, 400), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Non_string_model_is_a_400()
    {
        using var response = await PostAsync("""{"model":42,"messages":[]}""");
        Assert.Contains("must be a string", await ErrorAssert.IsOpenAiErrorAsync(response, 400), StringComparison.Ordinal);
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Unknown_model_group_is_a_400_listing_the_available_groups()
    {
        using var response = await PostAsync("""{"model":"gpt-9","messages":[{"role":"user","content":"hi"}]}""");
        var message = await ErrorAssert.IsOpenAiErrorAsync(response, 400);
        Assert.Contains("model=gpt-9", message, StringComparison.Ordinal);
        Assert.Contains("qwen3-8b", message, StringComparison.Ordinal);
        Assert.Contains("mock-model", message, StringComparison.Ordinal);
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Body_over_the_limit_is_a_413()
    {
        var prompt = new string('a', 20_000);
        using var response = await PostAsync($$"""{"model":"qwen3-8b","messages":[{"role":"user","content":"{{prompt}}"}]}""");
        await ErrorAssert.IsOpenAiErrorAsync(response, 413);
        Assert.Equal(0, _upstream.RequestCount);
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Upstream_refusing_connections_is_a_502()
    {
        using var response = await PostAsync("""{"model":"dead","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Contains("APIConnectionError", await ErrorAssert.IsOpenAiErrorAsync(response, 502), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upstream_timeout_is_a_408()
    {
        using var response = await PostAsync("""{"model":"qwen3-8b","messages":[{"role":"user","content":"hi"}],"fake_hang":true}""");
        Assert.Contains("Timeout", await ErrorAssert.IsOpenAiErrorAsync(response, 408), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upstream_rate_limit_is_a_429_with_retry_after()
    {
        using var response = await PostAsync("""{"model":"qwen3-8b","messages":[{"role":"user","content":"hi"}],"fake_status":429,"fake_retry_after":7}""");
        var message = await ErrorAssert.IsOpenAiErrorAsync(response, 429);
        Assert.Contains("RateLimitError", message, StringComparison.Ordinal);
        Assert.Equal("7", response.Headers.GetValues("Retry-After").Single());
    }

    [Fact]
    public async Task Upstream_500_body_is_normalised()
    {
        using var response = await PostAsync("""{"model":"qwen3-8b","messages":[{"role":"user","content":"hi"}],"fake_status":500}""");
        Assert.Contains("Hosted_vllmException", await ErrorAssert.IsOpenAiErrorAsync(response, 500), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flat_vllm_error_body_is_normalised()
    {
        _upstream.Options.FlatErrors = true;
        using var response = await PostAsync("""{"model":"qwen3-8b","messages":[{"role":"user","content":"hi"}],"fake_status":503}""");
        Assert.Contains("ServiceUnavailableError", await ErrorAssert.IsOpenAiErrorAsync(response, 503), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Context_length_error_keeps_vllms_message_and_is_classified()
    {
        _upstream.Options.MaxModelLen = 50;
        var prompt = new string('x', 400);
        using var response = await PostAsync($$"""{"model":"qwen3-8b","messages":[{"role":"user","content":"{{prompt}}"}]}""");
        var message = await ErrorAssert.IsOpenAiErrorAsync(response, 400);
        Assert.Contains("ContextWindowExceededError", message, StringComparison.Ordinal);
        Assert.Contains("maximum context length is 50 tokens", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_path_is_an_openai_shaped_404()
    {
        using var response = await _gateway.Http.SendAsync(_gateway.Post("/v1/nothing-here", "{}", Configs.MasterKey));
        await ErrorAssert.IsOpenAiErrorAsync(response, 404);
    }

    [Fact]
    public async Task Wrong_method_is_an_openai_shaped_405()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/chat/completions");
        request.Headers.Add("Authorization", "Bearer " + Configs.MasterKey);
        using var response = await _gateway.Http.SendAsync(request);
        await ErrorAssert.IsOpenAiErrorAsync(response, 405);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
