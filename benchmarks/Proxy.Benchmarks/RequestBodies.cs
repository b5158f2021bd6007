using System.Text;

namespace Proxy.Benchmarks;

internal static class RequestBodies
{
    public static byte[] Create(RequestBodyKind kind) => Encoding.UTF8.GetBytes(kind switch
    {
        RequestBodyKind.Small =>
            """{"model":"qwen3","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Write a haiku about proxies that forward bytes without parsing them twice."}],"temperature":0.2,"max_tokens":256,"stream":true,"user":"bench"}""",
        RequestBodyKind.SdkOrder12K => Prompt(12_000),
        RequestBodyKind.Prompt100K => Prompt(100_000),
        RequestBodyKind.ToolCall => ToolCall(),
        RequestBodyKind.Chinese12K => Prompt(12_000, "请总结下面的文档，并列出三个要点。代理服务器转发字节而不重复解析。\\n"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    });

    // JSON-escaped text with newlines and quotes, like a pasted document.
    private static string Prompt(int chars, string line = "Lorem ipsum \\\"dolor\\\" sit amet, consectetur adipiscing elit.\\n")
    {
        var builder = new StringBuilder(chars + 512);
        builder.Append("""{"messages":[{"role":"system","content":"Answer from the document."},{"role":"user","content":" """);
        while (builder.Length < chars)
        {
            builder.Append(line);
        }

        builder.Append("""."}],"stream":true,"stream_options":{"include_usage":true},"temperature":0.2,"model":"qwen3"}""");
        return builder.ToString();
    }

    private static string ToolCall()
    {
        var builder = new StringBuilder();
        builder.Append("""{"messages":[{"role":"user","content":"What's the weather in Paris and Berlin?"},""");
        builder.Append("""{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Berlin\"}"}}]},""");
        builder.Append("""{"role":"tool","tool_call_id":"call_1","content":"{\"temp\":12,\"sky\":\"cloudy\"}"},{"role":"tool","tool_call_id":"call_2","content":"{\"temp\":9,\"sky\":\"rain\"}"}],"tools":[""");
        for (var i = 0; i < 8; i++)
        {
            if (i > 0)
            {
                builder.Append(',');
            }

            builder.Append("""{"type":"function","function":{"name":"tool_""").Append(i).Append('"').Append(""","description":"Looks something up for the user; returns JSON.","parameters":{"type":"object","properties":{"city":{"type":"string","description":"City name"},"unit":{"type":"string","enum":["c","f"]}},"required":["city"]}}}""");
        }

        builder.Append("""],"tool_choice":"auto","stream":true,"metadata":{"trace":"abc"},"model":"qwen3"}""");
        return builder.ToString();
    }
}
