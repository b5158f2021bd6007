using System.Text;
using System.Text.Json;
using FakeUpstream;
using OpenAI.Chat;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests;

public sealed class ChatCompletionsTests : SingleUpstreamTest
{
    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Sdk_chat_completion_is_proxied_with_the_deployment_model_and_key()
    {
        var chat = Sdk.Client(Gateway).GetChatClient("qwen3-8b");

        var completion = (await chat.CompleteChatAsync([new UserChatMessage("Tell me about quantum mechanics.")])).Value;

        Assert.False(string.IsNullOrWhiteSpace(completion.Content[0].Text));
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.True(completion.Usage.OutputTokenCount > 0);
        var recorded = Upstream.Requests.Single(r => r.Path == "/v1/chat/completions");
        using var body = JsonDocument.Parse(recorded.Body);
        Assert.Equal("Qwen/Qwen3-8B", body.RootElement.GetProperty("model").GetString());
        Assert.Equal("Bearer " + Configs.UpstreamKey, recorded.Headers["Authorization"]);
        Assert.DoesNotContain(recorded.Headers, h => h.Value.Contains(Configs.MasterKey, StringComparison.Ordinal));
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Sdk_streaming_chat_yields_every_chunk_and_the_usage()
    {
        var chat = Sdk.Client(Gateway).GetChatClient("qwen3-8b");
        var text = new StringBuilder();
        var updates = 0;
        ChatTokenUsage? usage = null;

        await foreach (var update in chat.CompleteChatStreamingAsync(
            [new UserChatMessage("Count to five.")], new ChatCompletionOptions { MaxOutputTokenCount = 5 }))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
        }

        Assert.True(updates >= 6, $"expected a role chunk and five content chunks, got {updates}");
        Assert.Equal(5, text.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.NotNull(usage);
        Assert.Equal(5, usage!.OutputTokenCount);
    }

    [Fact]
    public async Task Path_without_v1_prefix_is_served_too()
    {
        using var response = await Gateway.Http.SendAsync(Gateway.Post("/chat/completions",
            """{"messages":[{"role":"user","content":"hi"}],"model":"qwen3-8b"}""", Configs.MasterKey));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("qwen3-8b", response.Headers.GetValues("x-litellm-model-group").Single());
        Assert.False(string.IsNullOrEmpty(response.Headers.GetValues("x-litellm-call-id").Single()));
        var overhead = double.Parse(response.Headers.GetValues("x-litellm-overhead-duration-ms").Single(), System.Globalization.CultureInfo.InvariantCulture);
        var total = double.Parse(response.Headers.GetValues("x-litellm-response-duration-ms").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(overhead, 0, total);
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Legacy_completions_are_proxied()
    {
        using var response = await Gateway.Http.SendAsync(Gateway.Post("/v1/completions",
            """{"model":"qwen3-8b","prompt":"Once upon a time","max_tokens":4}""", Configs.MasterKey));

        Assert.Equal(200, (int)response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("text_completion", body.RootElement.GetProperty("object").GetString());
        Assert.Equal(4, body.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(1, Upstream.CountFor("/v1/completions"));
    }

    [Fact]
    public async Task LiteLLM_only_fields_are_not_forwardedUpstream()
    {
        using var response = await Gateway.Http.SendAsync(Gateway.Post("/v1/chat/completions",
            """{"model":"qwen3-8b","messages":[{"role":"user","content":"hi"}],"metadata":{"tags":["a"]},"num_retries":2,"temperature":0.5}""",
            Configs.MasterKey));

        Assert.Equal(200, (int)response.StatusCode);
        using var forwarded = JsonDocument.Parse(Upstream.Requests.Single(r => r.Path == "/v1/chat/completions").Body);
        Assert.False(forwarded.RootElement.TryGetProperty("metadata", out _));
        Assert.False(forwarded.RootElement.TryGetProperty("num_retries", out _));
        Assert.Equal(0.5, forwarded.RootElement.GetProperty("temperature").GetDouble());
    }
}
