using System.Text;
using System.Text.Json;

namespace FakeUpstream.Fleet;

/// <summary>
/// Renders a request the way a chat template would, for the simulated prefix cache: <c>&lt;|tools|&gt;json</c> first when
/// the request has tools, then <c>&lt;|role|&gt;content</c> per message (tool calls as their JSON); a completion's prompt as is.
/// </summary>
public static class PromptRenderer
{
    public const string AssistantTag = "<|assistant|>";

    public static string Chat(JsonElement request)
    {
        var text = new StringBuilder();
        if (request.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
        {
            text.Append("<|tools|>").Append(tools.GetRawText());
        }

        if (request.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                if (message.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                var role = message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : "user";
                text.Append("<|").Append(role).Append("|>");
                if (message.TryGetProperty("content", out var content))
                {
                    AppendContent(text, content);
                }

                if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
                {
                    text.Append(calls.GetRawText());
                }
            }
        }

        return text.ToString();
    }

    /// <summary>The same rendering for messages the caller holds as (role, content) pairs: what an oracle needs.</summary>
    public static string Chat(IEnumerable<(string Role, string Content)> messages)
    {
        var text = new StringBuilder();
        foreach (var (role, content) in messages)
        {
            text.Append("<|").Append(role).Append("|>").Append(content);
        }

        return text.ToString();
    }

    public static string Completion(JsonElement request)
    {
        if (!request.TryGetProperty("prompt", out var prompt))
        {
            return string.Empty;
        }

        return prompt.ValueKind switch
        {
            JsonValueKind.String => prompt.GetString() ?? string.Empty,
            JsonValueKind.Array when prompt.GetArrayLength() > 0 && prompt[0].ValueKind == JsonValueKind.String => prompt[0].GetString() ?? string.Empty,
            _ => prompt.GetRawText(),
        };
    }

    private static void AppendContent(StringBuilder text, JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            text.Append(content.GetString());
            return;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.String)
            {
                text.Append(part.GetString());
            }
            else if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
            {
                text.Append(t.GetString());
            }
        }
    }
}
