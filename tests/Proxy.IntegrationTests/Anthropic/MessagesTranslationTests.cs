using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Proxy.IntegrationTests.Infrastructure;
using Proxy.IntegrationTests.Keys;

namespace Proxy.IntegrationTests.Anthropic;

/// <summary>
/// The official Anthropic SDK against <c>/v1/messages</c> in front of the fake vLLM: requests translated to chat, answers
/// and streams translated back, count_tokens, virtual keys in x-api-key, errors in Anthropic's shape.
/// </summary>
public sealed class MessagesTranslationTests : IAsyncLifetime
{
    private KeysGateway _keys = null!;

    private GatewayInstance Gateway => _keys.Gateway;

    public async Task InitializeAsync() => _keys = await KeysGateway.StartAsync();

    public async Task DisposeAsync() => await _keys.DisposeAsync();

    private static MessageCreateParams Hello(long maxTokens = 32) => new()
    {
        Model = "qwen3-8b",
        MaxTokens = maxTokens,
        System = "You are terse.",
        Messages = [new UserMessageParam("Say hello")],
    };

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Create_is_translated_to_chat_and_the_answer_back_to_a_message()
    {
        var client = AnthropicSdk.Client(Gateway, headers: new Dictionary<string, string> { ["x-pass-x-fake-content"] = "Hello from vLLM" });

        var message = await client.Messages.Create(Hello());

        Assert.StartsWith("msg_", message.ID, StringComparison.Ordinal);
        Assert.True(message.Content[0].TryPickText(out var text));
        Assert.Equal("Hello from vLLM", text.Text);
        Assert.Equal("end_turn", message.StopReason!.Raw());
        Assert.True(message.Usage.InputTokens > 0);
        Assert.Equal(4, message.Usage.OutputTokens);

        var upstream = Assert.Single(_keys.Upstream.Requests, r => r.Path == "/v1/chat/completions");
        using var body = JsonDocument.Parse(upstream.Body);
        var root = body.RootElement;
        Assert.Equal("Qwen/Qwen3-8B", root.GetProperty("model").GetString());
        Assert.Equal(32, root.GetProperty("max_tokens").GetInt32());
        var messages = root.GetProperty("messages");
        Assert.Equal("system", messages[0].GetProperty("role").GetString());
        Assert.Equal("You are terse.", messages[0].GetProperty("content").GetString());
        Assert.Equal("user", messages[1].GetProperty("role").GetString());
        Assert.Equal("Say hello", messages[1].GetProperty("content").GetString());
        Assert.DoesNotContain("x-api-key", upstream.Headers.Keys, StringComparer.OrdinalIgnoreCase);
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Stream_is_translated_event_by_event_in_anthropic_order()
    {
        var client = AnthropicSdk.Client(Gateway, headers: new Dictionary<string, string> { ["x-pass-x-fake-content"] = "Streamed answer here" });
        var types = new List<string>();
        var text = new StringBuilder();
        MessageDeltaUsage? usage = null;
        string? stopReason = null;

        await foreach (var streamEvent in client.Messages.CreateStreaming(Hello()))
        {
            types.Add(streamEvent.Json.GetProperty("type").GetString()!);
            if (streamEvent.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var piece))
            {
                text.Append(piece.Text);
            }

            if (streamEvent.TryPickDelta(out var messageDelta))
            {
                usage = messageDelta.Usage;
                stopReason = messageDelta.Delta.StopReason?.Raw();
            }
        }

        Assert.Equal("Streamed answer here", text.ToString());
        Assert.Equal(["message_start", "content_block_start"], types.Take(2));
        Assert.Equal(["content_block_stop", "message_delta", "message_stop"], types.TakeLast(3));
        Assert.All(types.Skip(2).SkipLast(3), t => Assert.Equal("content_block_delta", t));
        Assert.Equal("end_turn", stopReason);
        Assert.Equal(5, usage!.OutputTokens);
        Assert.True(usage.InputTokens > 0);

        // The gateway asked the chat upstream for its usage chunk, so the final event reports real counts.
        var upstream = Assert.Single(_keys.Upstream.Requests, r => r.Path == "/v1/chat/completions");
        Assert.Contains("\"include_usage\":true", upstream.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_sends_ping_after_message_start_as_anthropic_does()
    {
        using var response = await PostAsync("""{"model":"qwen3-8b","max_tokens":3,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = EventNames(text);
        Assert.Equal(["message_start", "ping", "content_block_start"], events.Take(3));
        Assert.Equal("message_stop", events[^1]);
    }

    [Fact]
    public async Task Tool_use_round_trip_streams_input_json_delta_and_takes_the_tool_result_back()
    {
        var headers = new Dictionary<string, string> { ["x-pass-x-fake-tool-call"] = "true", ["x-pass-x-fake-tool-arguments"] = """{"city": "Paris", "unit": "c"}""" };
        var client = AnthropicSdk.Client(Gateway, headers: headers);
        var weather = new Tool
        {
            Name = "get_weather",
            Description = "Current weather of a city",
            InputSchema = new InputSchema
            {
                Properties = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement(new { type = "string" }) },
                Required = ["city"],
            },
        };
        var first = new MessageCreateParams
        {
            Model = "qwen3-8b",
            MaxTokens = 64,
            Tools = [weather],
            ToolChoice = new ToolChoiceAuto(),
            Messages = [new UserMessageParam("Weather in Paris?")],
        };

        string? toolId = null;
        string? toolName = null;
        var partialJson = new StringBuilder();
        string? stopReason = null;
        await foreach (var streamEvent in client.Messages.CreateStreaming(first))
        {
            if (streamEvent.TryPickContentBlockStart(out var start) && start.ContentBlock.TryPickToolUse(out var toolUse))
            {
                toolId = toolUse.ID;
                toolName = toolUse.Name;
            }
            else if (streamEvent.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickInputJson(out var json))
            {
                partialJson.Append(json.PartialJson);
            }
            else if (streamEvent.TryPickDelta(out var messageDelta))
            {
                stopReason = messageDelta.Delta.StopReason?.Raw();
            }
        }

        Assert.Equal("get_weather", toolName);
        Assert.False(string.IsNullOrEmpty(toolId));
        Assert.Equal("""{"city": "Paris", "unit": "c"}""", partialJson.ToString());
        Assert.Equal("tool_use", stopReason);
        using (var sent = JsonDocument.Parse(_keys.Upstream.Requests.Last(r => r.Path == "/v1/chat/completions").Body))
        {
            var tool = sent.RootElement.GetProperty("tools")[0];
            Assert.Equal("function", tool.GetProperty("type").GetString());
            Assert.Equal("get_weather", tool.GetProperty("function").GetProperty("name").GetString());
            Assert.Equal("object", tool.GetProperty("function").GetProperty("parameters").GetProperty("type").GetString());
            Assert.Equal("auto", sent.RootElement.GetProperty("tool_choice").GetString());
        }

        // Second turn: the assistant's tool_use and the user's tool_result go back through the translation.
        var answer = await AnthropicSdk.Client(Gateway).Messages.Create(new MessageCreateParams
        {
            Model = "qwen3-8b",
            MaxTokens = 64,
            Tools = [weather],
            Messages =
            [
                new UserMessageParam("Weather in Paris?"),
                new AssistantMessageParam(new List<ContentBlockParam>
                    {
                        new ToolUseBlockParam
                        {
                            ID = toolId!,
                            Name = "get_weather",
                            Input = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement("Paris") },
                        },
                    }),
                new UserMessageParam(new List<ContentBlockParam> { new ToolResultBlockParam(toolId!) { Content = "18 C and sunny" } }),
            ],
        });

        Assert.True(answer.Content[0].TryPickText(out var text));
        Assert.Equal("Tool result: 18 C and sunny", text.Text);
        using var second = JsonDocument.Parse(_keys.Upstream.Requests.Last(r => r.Path == "/v1/chat/completions").Body);
        var messages = second.RootElement.GetProperty("messages");
        var call = messages[1].GetProperty("tool_calls")[0];
        Assert.Equal(toolId, call.GetProperty("id").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        using (var arguments = JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!))
        {
            Assert.Equal("Paris", arguments.RootElement.GetProperty("city").GetString());
        }

        Assert.Equal("tool", messages[2].GetProperty("role").GetString());
        Assert.Equal(toolId, messages[2].GetProperty("tool_call_id").GetString());
        Assert.Equal("18 C and sunny", messages[2].GetProperty("content").GetString());
    }

    [Fact]
    public async Task Tool_call_answer_becomes_a_tool_use_block_with_parsed_input()
    {
        var client = AnthropicSdk.Client(Gateway, headers: new Dictionary<string, string> { ["x-pass-x-fake-tool-call"] = "true" });
        var message = await client.Messages.Create(new MessageCreateParams
        {
            Model = "qwen3-8b",
            MaxTokens = 64,
            Tools = [new Tool { Name = "lookup", InputSchema = new InputSchema() }],
            Messages = [new UserMessageParam("look it up")],
        });

        Assert.Equal("tool_use", message.StopReason!.Raw());
        Assert.True(Assert.Single(message.Content).TryPickToolUse(out var toolUse));
        Assert.Equal("lookup", toolUse.Name);
        Assert.Equal("Paris", toolUse.Input["city"].GetString());
    }

    [Fact]
    public async Task Reasoning_from_vllm_comes_back_as_a_thinking_block()
    {
        var client = AnthropicSdk.Client(Gateway, headers: new Dictionary<string, string> { ["x-pass-x-fake-reasoning"] = "Let me think", ["x-pass-x-fake-content"] = "Done" });

        var message = await client.Messages.Create(Hello());
        var thinking = new StringBuilder();
        await foreach (var streamEvent in client.Messages.CreateStreaming(Hello()))
        {
            if (streamEvent.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickThinking(out var piece))
            {
                thinking.Append(piece.Thinking);
            }
        }

        Assert.True(message.Content[0].TryPickThinking(out var block));
        Assert.Equal("Let me think", block.Thinking);
        Assert.True(message.Content[1].TryPickText(out var text));
        Assert.Equal("Done", text.Text);
        Assert.Equal("Let me think", thinking.ToString());
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Count_tokens_is_answered_by_the_gateway_tokenizer_without_an_upstream_call()
    {
        var count = await AnthropicSdk.Client(Gateway).Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "qwen3-8b",
            Messages = [new UserMessageParam("How many tokens is this sentence?")],
        });

        Assert.InRange(count.InputTokens, 8, 40);
        Assert.Equal(0, _keys.Upstream.RequestCount);
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Virtual_key_in_x_api_key_is_accepted_and_its_spend_is_logged()
    {
        var (key, token) = await _keys.GenerateAsync("""{"models":["qwen3-8b"]}""");
        var client = AnthropicSdk.Client(Gateway, key, new Dictionary<string, string> { ["x-pass-x-fake-content"] = "abc def" });

        await client.Messages.Create(Hello());
        await foreach (var _ in client.Messages.CreateStreaming(Hello()))
        {
        }

        JsonElement[] logs = [];
        Assert.True(await Eventually.TrueAsync(async () => (logs = await _keys.SpendLogsAsync(token)).Length >= 2, TimeSpan.FromSeconds(10)));
        Assert.All(logs, row => Assert.Equal("anthropic_messages", row.GetProperty("call_type").GetString()));
        Assert.All(logs, row => Assert.True(row.GetProperty("completion_tokens").GetInt64() > 0, row.ToString()));
        Assert.All(logs, row => Assert.True(row.GetProperty("spend").GetDouble() > 0, row.ToString()));
    }

    [Fact]
    public async Task Key_without_access_to_the_model_gets_403_permission_error()
    {
        var (key, _) = await _keys.GenerateAsync("""{"models":["other-model"]}""");

        var error = await Assert.ThrowsAsync<AnthropicForbiddenException>(() => AnthropicSdk.Client(Gateway, key).Messages.Create(Hello()));

        Assert.Equal(HttpStatusCode.Forbidden, error.StatusCode);
        AssertAnthropicError(error.ResponseBody, "permission_error");
        Assert.Equal(0, _keys.Upstream.RequestCount);
    }

    [Fact]
    public async Task Each_kind_of_error_has_anthropic_shape_and_status()
    {
        var bad = await Assert.ThrowsAsync<AnthropicUnauthorizedException>(() => AnthropicSdk.Client(Gateway, "sk-not-a-key").Messages.Create(Hello()));
        AssertAnthropicError(bad.ResponseBody, "authentication_error");

        var unknown = await Assert.ThrowsAsync<AnthropicBadRequestException>(() =>
            AnthropicSdk.Client(Gateway).Messages.Create(Hello() with { Model = "no-such-model" }));
        AssertAnthropicError(unknown.ResponseBody, "invalid_request_error");

        var limited = await Assert.ThrowsAsync<AnthropicRateLimitException>(() =>
            AnthropicSdk.Client(Gateway, headers: new Dictionary<string, string> { ["x-pass-x-fake-status"] = "429" }).Messages.Create(Hello()));
        AssertAnthropicError(limited.ResponseBody, "rate_limit_error");

        var failed = await Assert.ThrowsAnyAsync<Anthropic5xxException>(() =>
            AnthropicSdk.Client(Gateway, headers: new Dictionary<string, string> { ["x-pass-x-fake-status"] = "500" }).Messages.Create(Hello()));
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        AssertAnthropicError(failed.ResponseBody, "api_error");

        var overloaded = await Assert.ThrowsAnyAsync<Anthropic5xxException>(() =>
            AnthropicSdk.Client(Gateway, headers: new Dictionary<string, string> { ["x-pass-x-fake-status"] = "503" }).Messages.Create(Hello()));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, overloaded.StatusCode);
        AssertAnthropicError(overloaded.ResponseBody, "overloaded_error");

        using var notFound = await Gateway.Http.SendAsync(Gateway.Post("/v1/messages/batches/x", "{}", Configs.MasterKey));
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        AssertAnthropicError(await notFound.Content.ReadAsStringAsync(), "not_found_error");
    }

    [Theory]
    [InlineData("""{"model":"qwen3-8b","messages":[{"role":"user","content":"hi"}]}""", "max_tokens")]
    [InlineData("""{"model":"qwen3-8b","max_tokens":5}""", "messages")]
    [InlineData("""{"model":"qwen3-8b","max_tokens":5,"messages":[]}""", "messages")]
    [InlineData("""{"model":"qwen3-8b","max_tokens":5,"messages":[{"role":"user","content":[{"type":"hologram","data":"x"}]}]}""", "messages.0.content.0.type")]
    [InlineData("""{"model":"qwen3-8b","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"t","input_schema":"object"}]}""", "tools.0.input_schema")]
    [InlineData("""{"model":"qwen3-8b","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"t","input_schema":{"type":"string"}}]}""", "tools.0.input_schema")]
    [InlineData("""{"model":"qwen3-8b","max_tokens":5,"messages":[{"role":"robot","content":"hi"}]}""", "messages.0.role")]
    [InlineData("""{"model":"qwen3-8b","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}""", "max_tokens")]
    [InlineData("""[1,2]""", "JSON object")]
    [InlineData("""{"model":""", "not valid JSON")]
    public async Task Bad_input_is_a_400_in_anthropic_shape_and_never_reaches_the_upstream(string body, string mentioned)
    {
        using var response = await PostAsync(body);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = AssertAnthropicError(text, "invalid_request_error");
        Assert.Contains(mentioned, message, StringComparison.Ordinal);
        Assert.Equal(0, _keys.Upstream.RequestCount);
    }

    [Fact]
    public async Task Any_anthropic_version_and_beta_and_query_string_are_accepted()
    {
        using var request = Gateway.Post("/v1/messages?beta=true", """{"model":"qwen3-8b","max_tokens":3,"messages":[{"role":"user","content":"hi"}]}""");
        request.Headers.Add("x-api-key", Configs.MasterKey);
        request.Headers.Add("anthropic-version", "2031-01-01");
        request.Headers.Add("anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14,some-future-beta");
        using var response = await Gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("message", body.RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Failure_after_the_first_byte_ends_the_stream_with_an_anthropic_error_event()
    {
        using var request = Gateway.Post("/messages", """{"model":"qwen3-8b","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}""", Configs.MasterKey);
        request.Headers.Add("x-pass-x-fake-drop-after-chunks", "3");
        // Chunks 20 ms apart: the first reaches the client before the drop, even on a busy machine (a drop seen before
        // the first byte is retried instead, which another test covers).
        request.Headers.Add("x-pass-x-fake-chunk-delay-ms", "20");
        using var response = await Gateway.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        var events = EventNames(text);
        Assert.Equal("message_start", events[0]);
        Assert.Equal("error", events[^1]);
        Assert.DoesNotContain("message_stop", events);
        var data = text[(text.LastIndexOf("data: ", StringComparison.Ordinal) + 6)..].Trim();
        AssertAnthropicError(data, "api_error");
    }

    [Fact]
    public async Task Mid_conversation_system_turns_and_image_blocks_are_translated()
    {
        const string Body = """
            {"model":"qwen3-8b","max_tokens":5,"system":[{"type":"text","text":"A"},{"type":"text","text":"B","cache_control":{"type":"ephemeral"}}],
             "metadata":{"user_id":"user-7"},"stop_sequences":["END"],"temperature":0.5,"top_k":20,
             "thinking":{"type":"adaptive"},"context_management":{"edits":[]},
             "messages":[
               {"role":"user","content":[{"type":"text","text":"look"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
                                         {"type":"image","source":{"type":"url","url":"https://example.invalid/cat.png"}}]},
               {"role":"system","content":[{"type":"text","text":"Be kind."}]},
               {"role":"assistant","content":[{"type":"thinking","thinking":"hm","signature":"s"},{"type":"text","text":"ok"}]},
               {"role":"user","content":"go"}]}
            """;
        using var response = await PostAsync(Body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        using var sent = JsonDocument.Parse(_keys.Upstream.Requests.Single(r => r.Path == "/v1/chat/completions").Body);
        var root = sent.RootElement;
        var messages = root.GetProperty("messages");
        Assert.Equal("A\nB", messages[0].GetProperty("content").GetString());
        var parts = messages[1].GetProperty("content");
        Assert.Equal("look", parts[0].GetProperty("text").GetString());
        Assert.Equal("data:image/png;base64,iVBORw0KGgo=", parts[1].GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal("https://example.invalid/cat.png", parts[2].GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal("system", messages[2].GetProperty("role").GetString());
        Assert.Equal("Be kind.", messages[2].GetProperty("content").GetString());
        Assert.Equal("ok", messages[3].GetProperty("content").GetString());
        Assert.Equal("go", messages[4].GetProperty("content").GetString());
        Assert.Equal("user-7", root.GetProperty("user").GetString());
        Assert.Equal("END", root.GetProperty("stop")[0].GetString());
        Assert.Equal(20, root.GetProperty("top_k").GetInt32());
        Assert.False(root.TryGetProperty("thinking", out _));
        Assert.False(root.TryGetProperty("context_management", out _));
        Assert.False(root.TryGetProperty("metadata", out _));
    }

    private async Task<HttpResponseMessage> PostAsync(string body)
    {
        using var request = Gateway.Post("/v1/messages", body);
        request.Headers.Add("x-api-key", Configs.MasterKey);
        request.Headers.Add("anthropic-version", "2023-06-01");
        return await Gateway.Http.SendAsync(request);
    }

    private static List<string> EventNames(string sse) =>
        [.. sse.Split('\n').Where(line => line.StartsWith("event: ", StringComparison.Ordinal)).Select(line => line["event: ".Length..].Trim())];

    /// <summary>Asserts Anthropic's error shape and returns the message.</summary>
    internal static string AssertAnthropicError(string body, string type)
    {
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.Equal("error", root.GetProperty("type").GetString());
        var error = root.GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        var message = error.GetProperty("message").GetString();
        Assert.False(string.IsNullOrWhiteSpace(message));
        return message!;
    }
}
