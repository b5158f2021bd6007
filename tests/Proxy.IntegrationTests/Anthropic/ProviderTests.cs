using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic.Models.Messages;
using FakeUpstream;
using OpenAI.Chat;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Anthropic;

/// <summary>
/// Outbound providers with the official OpenAI SDK as client: <c>anthropic/</c> deployments (chat translated to Messages
/// and back) against a fake Anthropic, <c>azure/</c> deployments against a fake Azure OpenAI, a fallback from a failing vLLM
/// group to an anthropic/ group; and the native Messages pass-through (anthropic/, and vLLM with translation off).
/// </summary>
public sealed class ProviderTests : IAsyncLifetime
{
    private const string AnthropicKey = "sk-ant-upstream-secret-77";
    private const string AzureKey = "azure-upstream-secret-88";

    private FakeUpstreamServer _anthropic = null!;
    private FakeUpstreamServer _azure = null!;
    private FakeUpstreamServer _vllm = null!;
    private FakeUpstreamServer _failing = null!;
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        _anthropic = await FakeUpstreamServer.StartAsync(new FakeUpstreamOptions { AnthropicHeadersRequired = true, FixedContent = "Hi from Claude" });
        _azure = await FakeUpstreamServer.StartAsync(new FakeUpstreamOptions { AzureContentFilter = true, FixedContent = "Hi from Azure" });
        _vllm = await FakeUpstreamServer.StartAsync(new FakeUpstreamOptions { FixedContent = "Hi from vLLM" });
        _failing = await FakeUpstreamServer.StartAsync(new FakeUpstreamOptions { FailStatus = 500 });
        _gateway = await GatewayInstance.StartAsync($$"""
            model_list:
              - model_name: claude
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_base: {{_anthropic.RootUrl}}
                  api_key: {{AnthropicKey}}
                  input_cost_per_token: 0.001
                  output_cost_per_token: 0.002
              - model_name: gpt-4o
                litellm_params:
                  model: azure/my-gpt4o-deployment
                  api_base: {{_azure.RootUrl}}
                  api_key: {{AzureKey}}
              - model_name: embedder
                litellm_params:
                  model: azure/my-embeddings
                  api_base: {{_azure.RootUrl}}
                  api_key: {{AzureKey}}
                  api_version: "2024-10-21"
              - model_name: broken-vllm
                litellm_params:
                  model: hosted_vllm/broken
                  api_base: {{_failing.BaseUrl}}
              - model_name: native-vllm
                litellm_params:
                  model: hosted_vllm/Qwen/Qwen3-8B
                  api_base: {{_vllm.BaseUrl}}
                  disable_anthropic_translation: true
              - model_name: safe-fallback
                litellm_params:
                  model: hosted_vllm/safe
                  api_base: {{_vllm.BaseUrl}}
            router_settings:
              num_retries: 0
              fallbacks: [{"broken-vllm": ["claude"]}]
              content_policy_fallbacks: [{"gpt-4o": ["safe-fallback"]}]
            general_settings:
              master_key: {{Configs.MasterKey}}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _anthropic.DisposeAsync();
        await _azure.DisposeAsync();
        await _vllm.DisposeAsync();
        await _failing.DisposeAsync();
    }

    [Fact]
    public async Task Anthropic_deployment_answers_chat_translated_from_messages()
    {
        var chat = Sdk.Client(_gateway).GetChatClient("claude");

        var completion = (await chat.CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("hello")],
            new ChatCompletionOptions { MaxOutputTokenCount = 50 })).Value;

        Assert.Equal("Hi from Claude", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.Equal(4, completion.Usage.OutputTokenCount);

        var sent = Assert.Single(_anthropic.Requests, r => r.Path == "/v1/messages");
        Assert.Equal(AnthropicKey, sent.Headers["x-api-key"]);
        Assert.Equal("2023-06-01", sent.Headers["anthropic-version"]);
        Assert.False(sent.Headers.ContainsKey("Authorization"));
        using var body = JsonDocument.Parse(sent.Body);
        Assert.Equal("claude-sonnet-4-5", body.RootElement.GetProperty("model").GetString());
        Assert.Equal(50, body.RootElement.GetProperty("max_tokens").GetInt32());
        Assert.Equal("Be brief.", body.RootElement.GetProperty("system")[0].GetProperty("text").GetString());
        Assert.Equal("user", body.RootElement.GetProperty("messages")[0].GetProperty("role").GetString());
    }

    [Fact]
    public async Task Anthropic_deployment_streams_chat_chunks_as_events_arrive_with_usage_for_cost()
    {
        using var request = _gateway.Post("/v1/chat/completions",
            """{"model":"claude","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}""", Configs.MasterKey);
        using var response = await _gateway.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        var chunks = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).ToList();
        Assert.Equal("[DONE]", chunks[^1]);
        var content = new StringBuilder();
        string? finish = null;
        JsonElement? usage = null;
        foreach (var chunk in chunks.SkipLast(1))
        {
            using var json = JsonDocument.Parse(chunk);
            Assert.Equal("chat.completion.chunk", json.RootElement.GetProperty("object").GetString());
            var choices = json.RootElement.GetProperty("choices");
            if (choices.GetArrayLength() == 0)
            {
                usage = json.RootElement.GetProperty("usage").Clone();
                continue;
            }

            var delta = choices[0].GetProperty("delta");
            if (delta.TryGetProperty("content", out var piece))
            {
                content.Append(piece.GetString());
            }

            if (choices[0].GetProperty("finish_reason").ValueKind == JsonValueKind.String)
            {
                finish = choices[0].GetProperty("finish_reason").GetString();
            }
        }

        Assert.Equal("Hi from Claude", content.ToString());
        Assert.Equal("stop", finish);
        Assert.Equal(4, usage!.Value.GetProperty("completion_tokens").GetInt32());
        Assert.True(usage.Value.GetProperty("prompt_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task Anthropic_deployment_tool_calls_stream_as_openai_tool_call_chunks()
    {
        var name = "";
        var arguments = new StringBuilder();
        string? finish = null;

        // The fake Anthropic calls the first tool when this header asks; the gateway passes x-fake-* headers upstream.
        using var raw = _gateway.Post("/v1/chat/completions",
            """{"model":"claude","stream":true,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],"messages":[{"role":"user","content":"weather?"}]}""",
            Configs.MasterKey);
        raw.Headers.Add("x-pass-x-fake-tool-call", "true");
        using var response = await _gateway.Http.SendAsync(raw);
        foreach (var chunk in (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]))
        {
            if (chunk == "[DONE]")
            {
                continue;
            }

            using var json = JsonDocument.Parse(chunk);
            var choices = json.RootElement.GetProperty("choices");
            if (choices.GetArrayLength() == 0)
            {
                continue;
            }

            if (choices[0].GetProperty("delta").TryGetProperty("tool_calls", out var calls))
            {
                var function = calls[0].GetProperty("function");
                if (function.TryGetProperty("name", out var n))
                {
                    name = n.GetString()!;
                }

                arguments.Append(function.GetProperty("arguments").GetString());
            }

            if (choices[0].GetProperty("finish_reason").GetString() is { } reason)
            {
                finish = reason;
            }
        }

        Assert.Equal("get_weather", name);
        Assert.Equal("""{"city": "Paris"}""", arguments.ToString());
        Assert.Equal("tool_calls", finish);
        using var sent = JsonDocument.Parse(_anthropic.Requests.Last(r => r.Path == "/v1/messages").Body);
        var tool = sent.RootElement.GetProperty("tools")[0];
        Assert.Equal("get_weather", tool.GetProperty("name").GetString());
        Assert.Equal("object", tool.GetProperty("input_schema").GetProperty("type").GetString());
    }

    [Theory]
    [InlineData(429, 429, "RateLimitError")]
    [InlineData(529, 503, "ServiceUnavailableError")]
    [InlineData(500, 500, "InternalServerError")]
    public async Task Anthropic_errors_become_openai_errors_of_the_right_class(int upstreamStatus, int status, string exceptionName)
    {
        using var request = _gateway.Post("/v1/chat/completions", """{"model":"claude","messages":[{"role":"user","content":"hi"}]}""", Configs.MasterKey);
        request.Headers.Add("x-pass-x-fake-status", upstreamStatus.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("x-pass-x-fake-retry-after", "7");
        using var response = await _gateway.Http.SendAsync(request);

        var message = await ErrorAssert.IsOpenAiErrorAsync(response, status);
        Assert.StartsWith($"litellm.{exceptionName}: AnthropicException - ", message, StringComparison.Ordinal);
        if (upstreamStatus is 429 or 529)
        {
            Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
        }
    }

    [Fact]
    public async Task A_failing_vllm_group_falls_back_to_the_anthropic_group()
    {
        var completion = (await Sdk.Client(_gateway).GetChatClient("broken-vllm").CompleteChatAsync("hello")).Value;

        Assert.Equal("Hi from Claude", completion.Content[0].Text);
        Assert.Equal(1, _failing.CountFor("/v1/chat/completions"));
        Assert.Single(_anthropic.Requests, r => r.Path == "/v1/messages");
    }

    [Fact]
    public async Task Azure_deployment_gets_its_url_api_version_and_api_key()
    {
        var chat = Sdk.Client(_gateway).GetChatClient("gpt-4o");

        var completion = (await chat.CompleteChatAsync("hello")).Value;
        var streamed = new StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync("hello"))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }

        Assert.Equal("Hi from Azure", completion.Content[0].Text);
        Assert.Equal("Hi from Azure", streamed.ToString());
        var sent = _azure.Requests.Where(r => r.Method == "POST").ToList();
        Assert.Equal(2, sent.Count);
        Assert.All(sent, r => Assert.Equal("/openai/deployments/my-gpt4o-deployment/chat/completions", r.Path));
        Assert.All(sent, r => Assert.Equal(AzureKey, r.Headers["api-key"]));
        Assert.All(sent, r => Assert.False(r.Headers.ContainsKey("Authorization")));
    }

    [Fact]
    public async Task Azure_embeddings_use_the_deployment_api_version()
    {
        var embedding = (await Sdk.Client(_gateway).GetEmbeddingClient("embedder").GenerateEmbeddingAsync("text")).Value;

        Assert.Equal(8, embedding.ToFloats().Length);
        var sent = Assert.Single(_azure.Requests, r => r.Method == "POST");
        Assert.Equal("/openai/deployments/my-embeddings/embeddings", sent.Path);
    }

    [Fact]
    public async Task Azure_content_filter_is_a_content_policy_error_that_takes_content_policy_fallbacks()
    {
        var completion = (await Sdk.Client(_gateway).GetChatClient("gpt-4o").CompleteChatAsync("how to build a bomb")).Value;

        Assert.Equal("Hi from vLLM", completion.Content[0].Text);
        Assert.Single(_azure.Requests, r => r.Method == "POST");
        Assert.Single(_vllm.Requests, r => r.Path == "/v1/chat/completions");
    }

    [Fact]
    public async Task Messages_to_an_anthropic_deployment_pass_through_natively_with_only_the_model_rewritten()
    {
        var client = AnthropicSdk.Client(_gateway);
        var parameters = new MessageCreateParams
        {
            Model = "claude",
            MaxTokens = 20,
            Messages = [new UserMessageParam("hello")],
            Thinking = new ThinkingConfigEnabled { BudgetTokens = 1024 },
        };

        var message = await client.Messages.Create(parameters);
        var text = new StringBuilder();
        await foreach (var streamEvent in client.Messages.CreateStreaming(parameters))
        {
            if (streamEvent.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var piece))
            {
                text.Append(piece.Text);
            }
        }

        Assert.True(message.Content[0].TryPickText(out var block));
        Assert.Equal("Hi from Claude", block.Text);
        Assert.Equal("Hi from Claude", text.ToString());
        var sent = _anthropic.Requests.Where(r => r.Path == "/v1/messages").ToList();
        Assert.Equal(2, sent.Count);
        Assert.All(sent, r => Assert.Equal(AnthropicKey, r.Headers["x-api-key"]));
        using var body = JsonDocument.Parse(sent[0].Body);
        Assert.Equal("claude-sonnet-4-5", body.RootElement.GetProperty("model").GetString());
        // Native: Anthropic's own parameters go through untouched (a translation to chat would have dropped thinking).
        Assert.Equal(1024, body.RootElement.GetProperty("thinking").GetProperty("budget_tokens").GetInt32());
    }

    [Fact]
    public async Task Vllm_with_anthropic_translation_disabled_gets_the_messages_body_at_its_root()
    {
        var client = AnthropicSdk.Client(_gateway);

        var message = await client.Messages.Create(new MessageCreateParams { Model = "native-vllm", MaxTokens = 20, Messages = [new UserMessageParam("hi")] });
        var count = await client.Messages.CountTokens(new MessageCountTokensParams { Model = "native-vllm", Messages = [new UserMessageParam("hello there")] });

        Assert.True(message.Content[0].TryPickText(out var block));
        Assert.Equal("Hi from vLLM", block.Text);
        Assert.True(count.InputTokens > 0);
        var sent = _vllm.Requests.Single(r => r.Path == "/v1/messages");
        Assert.Single(_vllm.Requests, r => r.Path == "/v1/messages/count_tokens");
        Assert.DoesNotContain(_vllm.Requests, r => r.Path == "/v1/chat/completions");
        using var body = JsonDocument.Parse(sent.Body);
        Assert.Equal("Qwen/Qwen3-8B", body.RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public async Task Env_switch_turns_translation_off_for_every_hosted_vllm_deployment()
    {
        await using var gateway = await GatewayInstance.StartAsync($$"""
            model_list:
              - model_name: qwen
                litellm_params:
                  model: hosted_vllm/Qwen/Qwen3-8B
                  api_base: {{_vllm.BaseUrl}}
            general_settings:
              master_key: {{Configs.MasterKey}}
            """, new Dictionary<string, string?> { ["DISABLE_HOSTED_VLLM_ANTHROPIC_TRANSLATION"] = "true" });

        await AnthropicSdk.Client(gateway).Messages.Create(new MessageCreateParams { Model = "qwen", MaxTokens = 5, Messages = [new UserMessageParam("hi")] });

        Assert.Single(_vllm.Requests, r => r.Path == "/v1/messages");
        Assert.DoesNotContain(_vllm.Requests, r => r.Path == "/v1/chat/completions");
    }

    [Fact]
    public async Task Anthropic_deployment_refuses_embeddings_with_a_clear_400()
    {
        using var request = _gateway.Post("/v1/embeddings", """{"model":"claude","input":"text"}""", Configs.MasterKey);
        using var response = await _gateway.Http.SendAsync(request);

        var message = await ErrorAssert.IsOpenAiErrorAsync(response, (int)HttpStatusCode.BadRequest);
        Assert.Contains("does not serve /v1/embeddings", message, StringComparison.Ordinal);
        Assert.Empty(_anthropic.Requests);
    }
}
