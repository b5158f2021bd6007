using System.Buffers;
using System.Text;
using Proxy.Transforms.Protocols.Anthropic;

namespace Proxy.Transforms.Tests.Protocols;

public sealed class MessagesToChatTranslatorTests
{
    private static string Event(string name, string data) => $"event: {name}\ndata: {data}\n\n";

    private static readonly string ToolStream =
        Event("message_start", """{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"usage":{"input_tokens":10,"cache_read_input_tokens":5,"cache_creation_input_tokens":2,"output_tokens":1}}}""")
        + Event("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""")
        + Event("ping", """{"type":"ping"}""")
        + Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"On it."}}""")
        + Event("content_block_stop", """{"type":"content_block_stop","index":0}""")
        + Event("content_block_start", """{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get","input":{}}}""")
        + Event("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}""")
        + Event("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"2}"}}""")
        + Event("content_block_stop", """{"type":"content_block_stop","index":1}""")
        + Event("message_delta", """{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":9}}""")
        + Event("message_stop", """{"type":"message_stop"}""");

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(4)]
    public void Anthropic_events_become_chat_chunks_with_a_final_usage_chunk(int pieceSize)
    {
        var events = TranslatorHarness.Events(TranslatorHarness.Run(new MessagesToChatStreamTranslator(1700000000), ToolStream, pieceSize));

        Assert.All(events, e => Assert.Null(e.Name));
        Assert.Equal("[DONE]", events[^1].Data);
        var chunks = events.SkipLast(1).Select(e => TranslatorHarness.Json(e.Data)).ToList();
        Assert.All(chunks, c => Assert.Equal("msg_1", c.GetProperty("id").GetString()));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal("On it.", chunks[1].GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString());
        var start = chunks[2].GetProperty("choices")[0].GetProperty("delta").GetProperty("tool_calls")[0];
        Assert.Equal(0, start.GetProperty("index").GetInt32());
        Assert.Equal("toolu_1", start.GetProperty("id").GetString());
        Assert.Equal("get", start.GetProperty("function").GetProperty("name").GetString());
        var arguments = chunks.Skip(3).Take(2).Select(c => c.GetProperty("choices")[0].GetProperty("delta").GetProperty("tool_calls")[0].GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("{\"a\":2}", string.Concat(arguments));
        Assert.Equal("tool_calls", chunks[5].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        var usage = chunks[6].GetProperty("usage");
        Assert.Equal(0, chunks[6].GetProperty("choices").GetArrayLength());
        Assert.Equal(17, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(9, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(5, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
    }

    [Fact]
    public void An_error_event_becomes_chats_error_event_and_is_reported()
    {
        var stream = Event("message_start", """{"type":"message_start","message":{"id":"m","model":"x","usage":{"input_tokens":1}}}""")
            + Event("error", """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""");
        var translator = new MessagesToChatStreamTranslator(1);

        var events = TranslatorHarness.Events(TranslatorHarness.Run(translator, stream));

        var error = TranslatorHarness.Json(events[^1].Data).GetProperty("error");
        Assert.Equal("Overloaded", error.GetProperty("message").GetString());
        Assert.Equal("503", error.GetProperty("code").GetString());
        Assert.Equal("overloaded_error", translator.StreamError);
        Assert.DoesNotContain(events, e => e.Data == "[DONE]");
    }

    [Fact]
    public void A_stream_cut_before_message_stop_ends_with_an_error_not_done()
    {
        var stream = Event("message_start", """{"type":"message_start","message":{"id":"m","model":"x"}}""");

        var events = TranslatorHarness.Events(TranslatorHarness.Run(new MessagesToChatStreamTranslator(1), stream));

        Assert.Contains("\"error\"", events[^1].Data, StringComparison.Ordinal);
    }

    [Fact]
    public void Message_becomes_a_completion()
    {
        const string Message = """
            {"id":"msg_2","type":"message","role":"assistant","model":"claude-x","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"text","text":"A "},{"type":"text","text":"B"},
             {"type":"tool_use","id":"toolu_2","name":"get","input":{"q":"x"}}],"stop_reason":"tool_use","usage":{"input_tokens":3,"output_tokens":4}}
            """;

        var chat = TranslatorHarness.Json(TranslatorHarness.Run(new MessagesToChatResponseTranslator(5), Message, 9));

        Assert.Equal("chat.completion", chat.GetProperty("object").GetString());
        var message = chat.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("A B", message.GetProperty("content").GetString());
        Assert.Equal("t", message.GetProperty("reasoning_content").GetString());
        var call = message.GetProperty("tool_calls")[0];
        Assert.Equal("toolu_2", call.GetProperty("id").GetString());
        Assert.Equal("{\"q\":\"x\"}", call.GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("tool_calls", chat.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(7, chat.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public void Chat_request_becomes_a_messages_request()
    {
        const string Chat = """
            {"model":"claude","messages":[{"role":"system","content":"S1"},{"role":"developer","content":[{"type":"text","text":"S2"}]},
              {"role":"user","content":[{"type":"text","text":"see"},{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,AAAA"}},{"type":"image_url","image_url":{"url":"https://x.invalid/a.png"}}]},
              {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get","arguments":"{\"q\":1}"}}]},
              {"role":"tool","tool_call_id":"call_1","content":"result"}],
             "stop":"END","temperature":0.2,"user":"u1","n":1,"seed":4,"stream":true,"stream_options":{"include_usage":true},
             "tools":[{"type":"function","function":{"name":"get","parameters":{"type":"object"}}}],"tool_choice":"required","parallel_tool_calls":false}
            """;
        var output = new ArrayBufferWriter<byte>();

        Assert.Null(ChatRequestToMessagesTranslator.Translate(Encoding.UTF8.GetBytes(Chat), "claude-sonnet-4-5", output));
        var messages = TranslatorHarness.Json(Encoding.UTF8.GetString(output.WrittenSpan));

        Assert.Equal("claude-sonnet-4-5", messages.GetProperty("model").GetString());
        Assert.Equal(4096, messages.GetProperty("max_tokens").GetInt32());
        Assert.Equal(["S1", "S2"], messages.GetProperty("system").EnumerateArray().Select(b => b.GetProperty("text").GetString()));
        var turns = messages.GetProperty("messages");
        Assert.Equal(3, turns.GetArrayLength());
        var image = turns[0].GetProperty("content")[1].GetProperty("source");
        Assert.Equal("base64", image.GetProperty("type").GetString());
        Assert.Equal("image/jpeg", image.GetProperty("media_type").GetString());
        Assert.Equal("AAAA", image.GetProperty("data").GetString());
        Assert.Equal("url", turns[0].GetProperty("content")[2].GetProperty("source").GetProperty("type").GetString());
        var toolUse = turns[1].GetProperty("content")[0];
        Assert.Equal("tool_use", toolUse.GetProperty("type").GetString());
        Assert.Equal(1, toolUse.GetProperty("input").GetProperty("q").GetInt32());
        var result = turns[2].GetProperty("content")[0];
        Assert.Equal("tool_result", result.GetProperty("type").GetString());
        Assert.Equal("call_1", result.GetProperty("tool_use_id").GetString());
        Assert.Equal("END", messages.GetProperty("stop_sequences")[0].GetString());
        Assert.Equal("u1", messages.GetProperty("metadata").GetProperty("user_id").GetString());
        Assert.Equal("any", messages.GetProperty("tool_choice").GetProperty("type").GetString());
        Assert.True(messages.GetProperty("tool_choice").GetProperty("disable_parallel_tool_use").GetBoolean());
        Assert.True(messages.GetProperty("stream").GetBoolean());
        Assert.False(messages.TryGetProperty("n", out _));
        Assert.False(messages.TryGetProperty("seed", out _));
        Assert.False(messages.TryGetProperty("stream_options", out _));
    }
}
