using System.Buffers;
using System.Text;
using System.Text.Json;
using Proxy.Transforms.Protocols.Anthropic;

namespace Proxy.Transforms.Tests.Protocols;

public sealed class MessagesRequestTranslatorTests
{
    private static JsonElement Translate(string body, bool countTokens = false)
    {
        var output = new ArrayBufferWriter<byte>();
        var error = MessagesRequestTranslator.Translate(Encoding.UTF8.GetBytes(body), output, countTokens);
        Assert.True(error is null, error?.Message);
        return TranslatorHarness.Json(Encoding.UTF8.GetString(output.WrittenSpan));
    }

    private static string Error(string body, bool countTokens = false)
    {
        var error = MessagesRequestTranslator.Translate(Encoding.UTF8.GetBytes(body), new ArrayBufferWriter<byte>(), countTokens);
        Assert.NotNull(error);
        Assert.Equal(400, error.Value.Status);
        return error.Value.Message;
    }

    [Fact]
    public void Tool_results_come_first_as_tool_messages_and_the_rest_follows_as_one_user_message()
    {
        var chat = Translate("""
            {"model":"m","max_tokens":10,"messages":[
              {"role":"assistant","content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_1","name":"get","input":{"q":"a \"b\""}}]},
              {"role":"user","content":[{"type":"text","text":"and also"},{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"one"},{"type":"text","text":"two"}]}]}]}
            """);

        var messages = chat.GetProperty("messages");
        Assert.Equal("Let me check.", messages[0].GetProperty("content").GetString());
        var call = messages[0].GetProperty("tool_calls")[0];
        Assert.Equal("toolu_1", call.GetProperty("id").GetString());
        Assert.Equal("""{"q":"a \"b\""}""", call.GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("tool", messages[1].GetProperty("role").GetString());
        Assert.Equal("one\ntwo", messages[1].GetProperty("content").GetString());
        Assert.Equal("user", messages[2].GetProperty("role").GetString());
        Assert.Equal("and also", messages[2].GetProperty("content").GetString());
    }

    [Theory]
    [InlineData("""{"type":"auto"}""", "\"auto\"")]
    [InlineData("""{"type":"any"}""", "\"required\"")]
    [InlineData("""{"type":"none"}""", "\"none\"")]
    [InlineData("""{"type":"tool","name":"get"}""", """{"type":"function","function":{"name":"get"}}""")]
    public void Tool_choice_maps_to_chat(string choice, string expected)
    {
        var chat = Translate("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"get","input_schema":{"type":"object"}}],"tool_choice":""" + choice + "}");

        Assert.Equal(expected, chat.GetProperty("tool_choice").GetRawText());
        Assert.False(chat.TryGetProperty("parallel_tool_calls", out _));
    }

    [Fact]
    public void Disable_parallel_tool_use_turns_parallel_tool_calls_off_and_anthropic_tools_are_left_out()
    {
        var chat = Translate("""
            {"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],
             "tools":[{"type":"bash_20250124","name":"bash"},{"name":"get","description":"d","input_schema":{"type":"object","properties":{}},"cache_control":{"type":"ephemeral"}}],
             "tool_choice":{"type":"auto","disable_parallel_tool_use":true}}
            """);

        var tool = Assert.Single(chat.GetProperty("tools").EnumerateArray());
        Assert.Equal("get", tool.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("d", tool.GetProperty("function").GetProperty("description").GetString());
        Assert.False(chat.GetProperty("parallel_tool_calls").GetBoolean());
    }

    [Fact]
    public void Litellm_extras_are_copied_for_the_pipeline_and_anthropic_only_members_are_dropped()
    {
        var chat = Translate("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"mock_response":"hi","num_retries":2,"thinking":{"type":"enabled","budget_tokens":5},"service_tier":"auto","chat_template_kwargs":{"enable_thinking":false}}""");

        Assert.Equal("hi", chat.GetProperty("mock_response").GetString());
        Assert.Equal(2, chat.GetProperty("num_retries").GetInt32());
        Assert.False(chat.GetProperty("chat_template_kwargs").GetProperty("enable_thinking").GetBoolean());
        Assert.False(chat.TryGetProperty("thinking", out _));
        Assert.False(chat.TryGetProperty("service_tier", out _));
    }

    [Fact]
    public void Stream_asks_for_the_usage_chunk()
    {
        var chat = Translate("""{"model":"m","max_tokens":1,"stream":true,"messages":[{"role":"user","content":"x"}]}""");

        Assert.True(chat.GetProperty("stream").GetBoolean());
        Assert.True(chat.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
    }

    [Fact]
    public void Count_tokens_needs_no_max_tokens_and_never_streams()
    {
        var chat = Translate("""{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}""", countTokens: true);

        Assert.False(chat.TryGetProperty("max_tokens", out _));
        Assert.False(chat.TryGetProperty("stream", out _));
    }

    [Fact]
    public void Escaped_text_stays_escaped_once()
    {
        var chat = Translate("""{"model":"m","max_tokens":1,"system":[{"type":"text","text":"line\none \"q\""}],"messages":[{"role":"user","content":"caf\u00e9 \\ end"}]}""");

        Assert.Equal("line\none \"q\"", chat.GetProperty("messages")[0].GetProperty("content").GetString());
        Assert.Equal("café \\ end", chat.GetProperty("messages")[1].GetProperty("content").GetString());
    }

    [Theory]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text","text":"x"},{"type":"search_result_v9"}]}]}""", "messages.0.content.1.type")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"server_tool_use","id":"a","name":"b"}]}]}""", "messages.0.content.0.type")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"t"}]}""", "tools.0.input_schema: Field required")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"t","input_schema":[]}]}""", "tools.0.input_schema")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user"}]}""", "messages.0.content: Field required")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"f"}}]}]}""", "messages.0.content.0.source")]
    [InlineData("""{"model":"m","max_tokens":1.5,"messages":[{"role":"user","content":"x"}]}""", "max_tokens")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"t","input_schema":{"type":"object"}}],"tool_choice":{"type":"sometimes"}}""", "tool_choice.type")]
    public void Input_chat_cannot_carry_is_refused_with_the_path_named(string body, string path)
    {
        Assert.Contains(path, Error(body), StringComparison.Ordinal);
    }
}
