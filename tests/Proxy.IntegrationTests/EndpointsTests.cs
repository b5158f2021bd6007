using System.Text.Json;
using FakeUpstream;
using OpenAI.Chat;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests;

public sealed class EndpointsTests : SingleUpstreamTest
{
    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Sdk_lists_the_model_groups()
    {
        var models = (await Sdk.Client(Gateway).GetOpenAIModelClient().GetModelsAsync()).Value;

        Assert.Equal(["qwen3-8b", "mock-model"], models.Select(m => m.Id).ToArray());
        Assert.All(models, m => Assert.Equal("openai", m.OwnedBy));
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Sdk_embeddings_are_proxied()
    {
        var embeddings = Sdk.Client(Gateway).GetEmbeddingClient("qwen3-8b");

        var vector = (await embeddings.GenerateEmbeddingAsync("hello world")).Value.ToFloats();

        Assert.Equal(Upstream.Options.EmbeddingDimensions, vector.Length);
        Assert.Equal(1, Upstream.CountFor("/v1/embeddings"));
    }

    [Fact]
    public async Task Body_mock_response_answers_without_calling_theUpstream()
    {
        using var response = await Gateway.Http.SendAsync(Gateway.Post("/v1/chat/completions",
            """{"model":"qwen3-8b","messages":[{"role":"user","content":"hi"}],"mock_response":"canned answer"}""", Configs.MasterKey));

        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("canned answer", body.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.True(body.RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32() > 0);
        Assert.Equal(0, Upstream.RequestCount);
    }

    [Fact]
    public async Task Deployment_mock_response_streams_through_the_sdk()
    {
        var chat = Sdk.Client(Gateway).GetChatClient("mock-model");
        var text = "";
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            text += string.Concat(update.ContentUpdate.Select(p => p.Text));
        }

        Assert.Equal("Hello from the mock deployment.", text);
        Assert.Equal(0, Upstream.RequestCount);
    }

    [Fact]
    public async Task Mock_rate_limit_string_raises_a_429()
    {
        using var response = await Gateway.Http.SendAsync(Gateway.Post("/v1/chat/completions",
            """{"model":"mock-model","messages":[{"role":"user","content":"hi"}],"mock_response":"litellm.RateLimitError"}""", Configs.MasterKey));

        Assert.Contains("RateLimitError", await ErrorAssert.IsOpenAiErrorAsync(response, 429), StringComparison.Ordinal);
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Liveliness_answers_like_litellm()
    {
        Assert.Equal("\"I'm alive!\"", await Gateway.Http.GetStringAsync("/health/liveliness"));
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Readiness_reports_the_config_version()
    {
        using var body = JsonDocument.Parse(await Gateway.Http.GetStringAsync("/health/readiness"));
        var config = body.RootElement.GetProperty("config");
        Assert.Equal(1, config.GetProperty("version").GetInt32());
        Assert.Equal("ok", config.GetProperty("last_reload").GetProperty("status").GetString());
    }
}
