using System.Text;
using System.Text.Json;
using Proxy.Transforms.Caching;
using Proxy.Transforms.Streaming;

namespace Proxy.Transforms.Tests.Caching;

public sealed class StreamAssemblerTests
{
    private static string Event(string choices, string extra = "") =>
        "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"qwen3\",\"choices\":[" + choices + "]" + extra + "}\n\n";

    private static readonly string ChatStream =
        Event("""{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}""")
        + Event("""{"index":0,"delta":{"content":"Hel"},"logprobs":null,"finish_reason":null}""")
        + Event("""{"index":0,"delta":{"content":"lo \"wörld\"\n"},"logprobs":null,"finish_reason":null}""")
        + Event("""{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"stop"}""")
        + Event("", ",\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}")
        + "data: [DONE]\n\n";

    [Fact]
    public void Chat_stream_becomes_a_chat_completion()
    {
        var assembled = StreamAssembler.Assemble(Encoding.UTF8.GetBytes(ChatStream));

        using var json = JsonDocument.Parse(assembled!);
        var root = json.RootElement;
        Assert.Equal("chatcmpl-9", root.GetProperty("id").GetString());
        Assert.Equal("chat.completion", root.GetProperty("object").GetString());
        Assert.Equal(1700000000, root.GetProperty("created").GetInt64());
        var choice = root.GetProperty("choices")[0];
        Assert.Equal("Hello \"wörld\"\n", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(5, root.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public void Stream_without_done_or_with_an_error_is_not_assembled()
    {
        Assert.Null(StreamAssembler.Assemble(Encoding.UTF8.GetBytes(ChatStream.Replace("data: [DONE]\n\n", "", StringComparison.Ordinal))));
        Assert.Null(StreamAssembler.Assemble(Encoding.UTF8.GetBytes(
            Event("""{"index":0,"delta":{"content":"a"}}""") + "data: {\"error\":{\"message\":\"x\"}}\n\ndata: [DONE]\n\n")));
    }

    [Fact]
    public void Tool_call_deltas_are_merged()
    {
        var stream = Event("""{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}""")
            + Event("""{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}""")
            + Event("""{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}""")
            + Event("""{"index":0,"delta":{},"finish_reason":"tool_calls"}""")
            + "data: [DONE]\n\n";

        using var json = JsonDocument.Parse(StreamAssembler.Assemble(Encoding.UTF8.GetBytes(stream))!);
        var message = json.RootElement.GetProperty("choices")[0].GetProperty("message");
        var call = message.GetProperty("tool_calls")[0];

        Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
        Assert.Equal("call_1", call.GetProperty("id").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("{\"city\":\"Paris\"}", call.GetProperty("function").GetProperty("arguments").GetString());
    }

    [Fact]
    public void Text_completion_stream_becomes_a_text_completion()
    {
        var stream = "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"text\":\"Once\",\"finish_reason\":null}]}\n\n"
            + "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"text\":\" upon\",\"finish_reason\":\"length\"}]}\n\n"
            + "data: [DONE]\n\n";

        using var json = JsonDocument.Parse(StreamAssembler.Assemble(Encoding.UTF8.GetBytes(stream))!);

        Assert.Equal("text_completion", json.RootElement.GetProperty("object").GetString());
        Assert.Equal("Once upon", json.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
    }

    [Fact]
    public void Replay_of_an_assembled_stream_carries_the_same_text_tool_calls_and_usage()
    {
        var stream = Event("""{"index":0,"delta":{"role":"assistant","content":"Let me check."}}""")
            + Event("""{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]}}""")
            + Event("""{"index":0,"delta":{},"finish_reason":"tool_calls"}""")
            + Event("", ",\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}")
            + "data: [DONE]\n\n";
        var assembled = StreamAssembler.Assemble(Encoding.UTF8.GetBytes(stream))!;
        using var output = new ArrayPoolBufferWriter();

        Assert.True(CachedResponseWriter.TryRenderStream(assembled, includeUsage: true, output));

        var events = Encoding.UTF8.GetString(output.WrittenMemory.Span).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        using var content = JsonDocument.Parse(events[0]["data: ".Length..]);
        var delta = content.RootElement.GetProperty("choices")[0].GetProperty("delta");
        Assert.Equal("chat.completion.chunk", content.RootElement.GetProperty("object").GetString());
        Assert.Equal("Let me check.", delta.GetProperty("content").GetString());
        Assert.Equal(0, delta.GetProperty("tool_calls")[0].GetProperty("index").GetInt32());
        Assert.Equal("f", delta.GetProperty("tool_calls")[0].GetProperty("function").GetProperty("name").GetString());
        using var finish = JsonDocument.Parse(events[1]["data: ".Length..]);
        Assert.Equal("tool_calls", finish.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        using var usage = JsonDocument.Parse(events[2]["data: ".Length..]);
        Assert.Equal(5, usage.RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.Equal(0, usage.RootElement.GetProperty("choices").GetArrayLength());
    }

    [Fact]
    public void Replay_without_usage_requested_has_no_usage_chunk()
    {
        var assembled = StreamAssembler.Assemble(Encoding.UTF8.GetBytes(ChatStream))!;
        using var output = new ArrayPoolBufferWriter();

        Assert.True(CachedResponseWriter.TryRenderStream(assembled, includeUsage: false, output));

        Assert.DoesNotContain("usage", Encoding.UTF8.GetString(output.WrittenMemory.Span), StringComparison.Ordinal);
    }
}

public sealed class HitUsageTests
{
    [Fact]
    public void Usage_of_a_stored_answer_is_read_for_spend_and_metrics()
    {
        var stored = """{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"the word \"usage\" in text"}}],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}"""u8;

        Assert.True(ResponseCacheStage.TryReadUsage(stored, out var usage));
        Assert.Equal(7, usage.PromptTokens);
        Assert.Equal(3, usage.CompletionTokens);
        Assert.False(ResponseCacheStage.TryReadUsage("""{"id":"x","choices":[]}"""u8, out _));
    }
}
