using System.Buffers;
using System.Text;
using Proxy.Transforms.Protocols.Anthropic;

namespace Proxy.Transforms.Tests.Protocols;

public sealed class ChatToMessagesTranslatorTests
{
    private static readonly string TextStream = TranslatorHarness.Sse(
        """{"id":"chatcmpl-abc","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""",
        """{"id":"chatcmpl-abc","choices":[{"index":0,"delta":{"reasoning_content":"hmm"},"finish_reason":null}]}""",
        """{"id":"chatcmpl-abc","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}""",
        """{"id":"chatcmpl-abc","choices":[{"index":0,"delta":{"content":"lo \"x\""},"finish_reason":null}]}""",
        """{"id":"chatcmpl-abc","choices":[{"index":0,"delta":{},"finish_reason":"stop","stop_reason":"END"}]}""",
        """{"id":"chatcmpl-abc","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":10}}}""",
        "[DONE]");

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(7)]
    [InlineData(1)]
    public void Stream_becomes_the_anthropic_event_sequence_whatever_the_piece_size(int pieceSize)
    {
        var events = TranslatorHarness.Events(TranslatorHarness.Run(new ChatToMessagesStreamTranslator("claude-x", 25), TextStream, pieceSize));

        Assert.Equal(
            ["message_start", "ping", "content_block_start", "content_block_delta", "content_block_stop", "content_block_start", "content_block_delta",
                "content_block_delta", "content_block_stop", "message_delta", "message_stop"],
            events.Select(e => e.Name));
        var start = TranslatorHarness.Json(events[0].Data).GetProperty("message");
        Assert.Equal("msg_abc", start.GetProperty("id").GetString());
        Assert.Equal("claude-x", start.GetProperty("model").GetString());
        Assert.Equal(25, start.GetProperty("usage").GetProperty("input_tokens").GetInt32());
        Assert.Equal("thinking", TranslatorHarness.Json(events[2].Data).GetProperty("content_block").GetProperty("type").GetString());
        Assert.Equal("hmm", TranslatorHarness.Json(events[3].Data).GetProperty("delta").GetProperty("thinking").GetString());
        Assert.Equal(1, TranslatorHarness.Json(events[5].Data).GetProperty("index").GetInt32());
        Assert.Equal("lo \"x\"", TranslatorHarness.Json(events[7].Data).GetProperty("delta").GetProperty("text").GetString());
        var delta = TranslatorHarness.Json(events[9].Data);
        Assert.Equal("stop_sequence", delta.GetProperty("delta").GetProperty("stop_reason").GetString());
        Assert.Equal("END", delta.GetProperty("delta").GetProperty("stop_sequence").GetString());
        var usage = delta.GetProperty("usage");
        Assert.Equal(20, usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(10, usage.GetProperty("cache_read_input_tokens").GetInt32());
        Assert.Equal(3, usage.GetProperty("output_tokens").GetInt32());
    }

    [Fact]
    public void Tool_call_pieces_become_a_tool_use_block_with_input_json_deltas()
    {
        var stream = TranslatorHarness.Sse(
            """{"id":"c","choices":[{"index":0,"delta":{"content":"Checking."},"finish_reason":null}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get","arguments":""}}]},"finish_reason":null}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"q\":"}}]},"finish_reason":null}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]},"finish_reason":null}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","function":{"name":"put","arguments":"{}"}}]},"finish_reason":null}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""",
            "[DONE]");

        var events = TranslatorHarness.Events(TranslatorHarness.Run(new ChatToMessagesStreamTranslator("m", 1), stream, 5));

        var starts = events.Where(e => e.Name == "content_block_start").Select(e => TranslatorHarness.Json(e.Data)).ToList();
        Assert.Equal(["text", "tool_use", "tool_use"], starts.Select(s => s.GetProperty("content_block").GetProperty("type").GetString()));
        Assert.Equal("call_1", starts[1].GetProperty("content_block").GetProperty("id").GetString());
        Assert.Equal("put", starts[2].GetProperty("content_block").GetProperty("name").GetString());
        var json = events.Where(e => e.Name == "content_block_delta").Select(e => TranslatorHarness.Json(e.Data)).Where(d => d.GetProperty("index").GetInt32() == 1)
            .Select(d => d.GetProperty("delta").GetProperty("partial_json").GetString());
        Assert.Equal("{\"q\":1}", string.Concat(json));
        Assert.Equal("tool_use", TranslatorHarness.Json(events.Single(e => e.Name == "message_delta").Data).GetProperty("delta").GetProperty("stop_reason").GetString());
        Assert.Equal(3, events.Count(e => e.Name == "content_block_stop"));
    }

    [Fact]
    public void A_cut_stream_ends_with_an_error_event_never_a_message_stop()
    {
        var stream = TranslatorHarness.Sse("""{"id":"c","choices":[{"index":0,"delta":{"content":"par"},"finish_reason":null}]}""");

        var events = TranslatorHarness.Events(TranslatorHarness.Run(new ChatToMessagesStreamTranslator("m", 1), stream));

        Assert.Equal("error", events[^1].Name);
        Assert.Equal("api_error", TranslatorHarness.Json(events[^1].Data).GetProperty("error").GetProperty("type").GetString());
        Assert.DoesNotContain(events, e => e.Name == "message_stop");
    }

    [Fact]
    public void Error_events_from_the_upstream_and_from_the_gateway_end_the_stream_in_anthropic_shape()
    {
        var upstream = TranslatorHarness.Sse(
            """{"id":"c","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}""",
            """{"error":{"message":"rate limited","type":"RateLimitError","code":429}}""");
        var gateway = TranslatorHarness.Sse("""{"id":"c","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}""")
            + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"busy\"}}\n\n";

        var fromUpstream = TranslatorHarness.Events(TranslatorHarness.Run(new ChatToMessagesStreamTranslator("m", 1), upstream));
        var fromGateway = TranslatorHarness.Events(TranslatorHarness.Run(new ChatToMessagesStreamTranslator("m", 1), gateway, 3));

        var error = TranslatorHarness.Json(fromUpstream[^1].Data).GetProperty("error");
        Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
        Assert.Equal("rate limited", error.GetProperty("message").GetString());
        Assert.Equal("error", fromGateway[^1].Name);
        Assert.Equal("busy", TranslatorHarness.Json(fromGateway[^1].Data).GetProperty("error").GetProperty("message").GetString());
        Assert.Single(fromGateway, e => e.Name == "error");
    }

    [Fact]
    public void Completion_becomes_a_message_with_thinking_text_and_tool_use_blocks()
    {
        const string Chat = """
            {"id":"chatcmpl-9","object":"chat.completion","model":"Qwen","choices":[{"index":0,"message":{"role":"assistant","reasoning_content":"think","content":"Let me look.",
             "tool_calls":[{"id":"call_9","type":"function","function":{"name":"get","arguments":"{\"city\": \"Paris\"}"}},{"id":"call_10","type":"function","function":{"name":"bad","arguments":"not json"}}]},
             "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":12,"completion_tokens":7,"prompt_tokens_details":null}}
            """;

        var message = TranslatorHarness.Json(TranslatorHarness.Run(new ChatToMessagesResponseTranslator("claude-x"), Chat, 10));

        Assert.Equal("msg_9", message.GetProperty("id").GetString());
        Assert.Equal("claude-x", message.GetProperty("model").GetString());
        var content = message.GetProperty("content");
        Assert.Equal(["thinking", "text", "tool_use", "tool_use"], content.EnumerateArray().Select(b => b.GetProperty("type").GetString()));
        Assert.Equal("Paris", content[2].GetProperty("input").GetProperty("city").GetString());
        Assert.Equal("{}", content[3].GetProperty("input").GetRawText());
        Assert.Equal("tool_use", message.GetProperty("stop_reason").GetString());
        Assert.Equal(12, message.GetProperty("usage").GetProperty("input_tokens").GetInt32());
        Assert.Equal(7, message.GetProperty("usage").GetProperty("output_tokens").GetInt32());
    }

    [Theory]
    [InlineData("length", "max_tokens")]
    [InlineData("stop", "end_turn")]
    [InlineData("content_filter", "refusal")]
    public void Finish_reasons_map_to_stop_reasons(string finish, string stop)
    {
        var chat = $$"""{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"a"},"finish_reason":"{{finish}}"}]}""";

        var message = TranslatorHarness.Json(TranslatorHarness.Run(new ChatToMessagesResponseTranslator("m"), chat));

        Assert.Equal(stop, message.GetProperty("stop_reason").GetString());
    }

    [Fact]
    public void A_body_that_is_not_a_completion_passes_through()
    {
        var output = new ArrayBufferWriter<byte>();
        ChatToMessagesResponseTranslator.Translate("{\"input_tokens\":5}"u8, "m", output);

        Assert.Equal("{\"input_tokens\":5}", Encoding.UTF8.GetString(output.WrittenSpan));
    }
}
