using System.Buffers;
using System.Text;
using System.Text.Json;
using Proxy.Transforms.Protocols.ResponsesBridge;
using static Proxy.Transforms.Tests.Protocols.TranslatorHarness;

namespace Proxy.Transforms.Tests.Protocols;

public class ResponsesBridgeTranslatorTests
{
    [Fact]
    public void Translate_ItemsBecomeChatTurns_CallsJoinTheirAssistantTurn()
    {
        var chat = Request("""
            {"model":"m","instructions":"sys","input":[
              {"role":"developer","content":"dev"},
              {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Let me look."}]},
              {"type":"function_call","call_id":"c1","name":"f","arguments":"{\"a\":1}"},
              {"type":"function_call","call_id":"c2","name":"g","arguments":"{}"},
              {"type":"reasoning","id":"rs_1","summary":[]},
              {"type":"function_call_output","call_id":"c1","output":"one"},
              {"type":"function_call_output","call_id":"c2","output":[{"type":"input_text","text":"two"}]}]}
            """);

        var messages = chat.GetProperty("messages");
        Assert.Equal(["system", "system", "assistant", "tool", "tool"], messages.EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.Equal("Let me look.", messages[2].GetProperty("content").GetString());
        Assert.Equal(["c1", "c2"], messages[2].GetProperty("tool_calls").EnumerateArray().Select(c => c.GetProperty("id").GetString()));
        Assert.Equal("two", messages[4].GetProperty("content").GetString());
        Assert.Equal("m2", chat.GetProperty("model").GetString());
    }

    [Fact]
    public void Translate_AStream_AsksForUsage()
    {
        var chat = Request("""{"model":"m","input":"hi","stream":true}""");

        Assert.True(chat.GetProperty("stream").GetBoolean());
        Assert.True(chat.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
    }

    [Theory]
    [InlineData("""{"model":"m"}""", "Missing required parameter")]
    [InlineData("""{"model":"m","input":{"a":1}}""", "an object")]
    [InlineData("""{"model":"m","input":[{"type":"item_reference","id":"x"}]}""", "item_reference")]
    [InlineData("""{"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"f"}]}]}""", "image_url")]
    [InlineData("""{"model":"m","input":"hi","background":true}""", "background")]
    public void Translate_WhatChatCannotCarry_IsA400(string body, string message)
    {
        var error = ResponsesRequestTranslator.Translate(Encoding.UTF8.GetBytes(body), "m2", new ArrayBufferWriter<byte>());

        Assert.NotNull(error);
        Assert.Equal(400, error.Value.Status);
        Assert.Contains(message, error.Value.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(int.MaxValue)]
    public void Stream_TextThenTwoToolCalls_GivesOpenAIsEventsInOrder(int pieceSize)
    {
        var response = new BridgedResponse("resp_x", "model-a", 1, """{"input":"hi"}"""u8, null);
        var chat = Sse(
            """{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{"content":"lo"}}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\""}}]}}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]}}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"g","arguments":"{}"}}]}}]}""",
            """{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}""",
            """{"id":"c","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":2}}}""",
            "[DONE]");

        var events = Events(Run(new ChatToResponsesStreamTranslator(response), chat, pieceSize));

        Assert.Equal(
            ["response.created", "response.in_progress",
             "response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
             "response.output_text.done", "response.content_part.done", "response.output_item.done",
             "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.delta",
             "response.output_item.added", "response.function_call_arguments.delta",
             "response.function_call_arguments.done", "response.output_item.done", "response.function_call_arguments.done", "response.output_item.done",
             "response.completed"],
            events.Select(e => e.Name));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => Json(e.Data).GetProperty("sequence_number").GetInt32()));
        var final = Json(events[^1].Data).GetProperty("response");
        Assert.Equal("completed", final.GetProperty("status").GetString());
        var output = final.GetProperty("output");
        Assert.Equal("Hello", output[0].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("{\"a\":1}", output[1].GetProperty("arguments").GetString());
        Assert.Equal("call_2", output[2].GetProperty("call_id").GetString());
        Assert.Equal(2, Json(events[12].Data).GetProperty("output_index").GetInt32());
        var usage = final.GetProperty("usage");
        Assert.Equal(5, usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(2, usage.GetProperty("input_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(12, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(3, response.OutputItems.Count);
    }

    [Fact]
    public void Stream_TheLastEvent_WaitsForComplete()
    {
        var response = new BridgedResponse("resp_x", "m", 1, "{}"u8, null);
        var translator = new ChatToResponsesStreamTranslator(response);
        var output = new ArrayBufferWriter<byte>();

        translator.Write(Encoding.UTF8.GetBytes(Sse("""{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"length"}]}""", "[DONE]")), output);

        Assert.NotNull(response.Final);
        Assert.DoesNotContain("response.incomplete", Encoding.UTF8.GetString(output.WrittenSpan), StringComparison.Ordinal);
        translator.Complete(output);
        var last = Events(Encoding.UTF8.GetString(output.WrittenSpan))[^1];
        Assert.Equal("response.incomplete", last.Name);
        Assert.Equal("max_output_tokens", Json(last.Data).GetProperty("response").GetProperty("incomplete_details").GetProperty("reason").GetString());
    }

    [Fact]
    public void Stream_AChatErrorEvent_BecomesAnErrorEvent_AndNothingIsStored()
    {
        var response = new BridgedResponse("resp_x", "m", 1, "{}"u8, null);
        var chat = Sse("""{"choices":[{"index":0,"delta":{"content":"Hi"}}]}""", """{"error":{"message":"upstream broke","type":"api_connection_error","code":"502"}}""");

        var events = Events(Run(new ChatToResponsesStreamTranslator(response), chat));

        Assert.Equal("error", events[^1].Name);
        Assert.Equal("upstream broke", Json(events[^1].Data).GetProperty("message").GetString());
        Assert.DoesNotContain(events, e => e.Name == "response.completed");
        Assert.False(response.ShouldStore);
    }

    [Fact]
    public void Json_AChatCompletion_BecomesAResponse_ThatEchoesTheRequest()
    {
        var response = new BridgedResponse("resp_x", "alias", 42, """{"input":"hi","instructions":"sys","temperature":0.5,"store":false,"tools":[]}"""u8, "resp_prev");
        var chat = """
            {"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi!",
             "tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}
            """;

        var answer = Json(Run(new ChatToResponsesResponseTranslator(response), chat, 5));

        Assert.Equal("resp_x", answer.GetProperty("id").GetString());
        Assert.Equal("alias", answer.GetProperty("model").GetString());
        Assert.Equal(42, answer.GetProperty("created_at").GetInt64());
        Assert.Equal("resp_prev", answer.GetProperty("previous_response_id").GetString());
        Assert.Equal("sys", answer.GetProperty("instructions").GetString());
        Assert.Equal(0.5, answer.GetProperty("temperature").GetDouble());
        Assert.False(answer.GetProperty("store").GetBoolean());
        Assert.Equal(["message", "function_call"], answer.GetProperty("output").EnumerateArray().Select(o => o.GetProperty("type").GetString()));
        Assert.Equal(7, answer.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.False(response.ShouldStore);
    }

    [Fact]
    public void NativeAnswers_ConvertToChatForTheCache()
    {
        var stream = """
            event: response.created
            data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[]}}

            event: response.completed
            data: {"type":"response.completed","sequence_number":1,"response":{"id":"resp_1","object":"response","created_at":5,"model":"m","status":"completed","output":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hi there"}]}],"usage":{"input_tokens":2,"output_tokens":3,"total_tokens":5}}}


            """.Replace("\r\n", "\n", StringComparison.Ordinal);

        var chat = Json(Encoding.UTF8.GetString(ResponsesToChatAnswer.Convert(Encoding.UTF8.GetBytes(stream))!));

        Assert.Equal("Hi there", chat.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(3, chat.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Null(ResponsesToChatAnswer.Convert("""{"object":"response","status":"failed","output":[]}"""u8));
    }

    private static JsonElement Request(string body)
    {
        var output = new ArrayBufferWriter<byte>();
        var error = ResponsesRequestTranslator.Translate(Encoding.UTF8.GetBytes(body), "m2", output);
        Assert.Null(error);
        return Json(Encoding.UTF8.GetString(output.WrittenSpan));
    }
}
