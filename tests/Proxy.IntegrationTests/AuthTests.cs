using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests;

public sealed class AuthTests : SingleUpstreamTest
{
    private const string Body = """{"model":"mock-model","messages":[{"role":"user","content":"hi"}]}""";

    [Theory]
    [InlineData("Authorization", "Bearer " + Configs.MasterKey)]
    [InlineData("Authorization", Configs.MasterKey)]
    [InlineData("api-key", Configs.MasterKey)]
    [InlineData("x-api-key", Configs.MasterKey)]
    [InlineData("x-litellm-api-key", Configs.MasterKey)]
    public async Task Master_key_is_accepted_in_every_header_litellm_reads(string header, string value)
    {
        using var request = Gateway.Post("/v1/chat/completions", Body);
        request.Headers.TryAddWithoutValidation(header, value);

        using var response = await Gateway.Http.SendAsync(request);

        Assert.Equal(200, (int)response.StatusCode);
    }

    [Fact]
    public async Task Missing_key_is_a_401()
    {
        using var response = await Gateway.Http.SendAsync(Gateway.Post("/v1/chat/completions", Body));
        Assert.Contains("No api key passed in", await ErrorAssert.IsOpenAiErrorAsync(response, 401), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_key_is_a_401_that_does_not_echo_the_key()
    {
        const string wrong = "sk-wrong-key-that-is-long-0001";
        using var response = await Gateway.Http.SendAsync(Gateway.Post("/v1/chat/completions", Body, wrong));
        var message = await ErrorAssert.IsOpenAiErrorAsync(response, 401);
        Assert.DoesNotContain(wrong, message, StringComparison.Ordinal);
        Assert.Contains("0001", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/models")]
    [InlineData("/models")]
    public async Task Model_listing_needs_a_key(string path)
    {
        using var response = await Gateway.Http.GetAsync(path);
        await ErrorAssert.IsOpenAiErrorAsync(response, 401);
    }

    [Theory]
    [InlineData("/health/liveliness")]
    [InlineData("/health/liveness")]
    [InlineData("/health/readiness")]
    public async Task Health_probes_need_no_key(string path)
    {
        using var response = await Gateway.Http.GetAsync(path);
        Assert.Equal(200, (int)response.StatusCode);
    }

    [Fact]
    public async Task Without_a_master_key_theGateway_is_open()
    {
        await using var open = await GatewayInstance.StartAsync("""
            model_list:
              - model_name: mock-model
                litellm_params:
                  model: openai/mock-model
                  mock_response: open
            """);

        using var response = await open.Http.SendAsync(open.Post("/v1/chat/completions", Body));

        Assert.Equal(200, (int)response.StatusCode);
    }

    [Fact]
    public async Task Env_master_key_overrides_the_config()
    {
        await using var gateway = await GatewayInstance.StartAsync(Configs.SingleUpstream(Upstream.BaseUrl),
            new Dictionary<string, string?> { ["LITELLM_MASTER_KEY"] = "sk-from-env" });

        using var withConfigKey = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions", Body, Configs.MasterKey));
        using var withEnvKey = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions", Body, "sk-from-env"));

        Assert.Equal(401, (int)withConfigKey.StatusCode);
        Assert.Equal(200, (int)withEnvKey.StatusCode);
    }
}
