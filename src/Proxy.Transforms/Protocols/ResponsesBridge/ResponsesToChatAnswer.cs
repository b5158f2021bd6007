using System.Buffers;
using System.Text.Json;
using Proxy.Transforms.Protocols.Anthropic;

namespace Proxy.Transforms.Protocols.ResponsesBridge;

/// <summary>
/// A native Responses API answer (a response object, or a stream whose response.completed event carries it) as the
/// chat.completion the cache keeps: message text as the content, function calls as tool_calls, input/output tokens as
/// prompt/completion tokens. A cached answer is replayed through the Responses edge like a bridged one, so native and
/// bridged answers share one cache shape.
/// </summary>
public static class ResponsesToChatAnswer
{
    /// <summary>The chat completion for <paramref name="answer"/>; null when it holds no completed response.</summary>
    public static byte[]? Convert(ReadOnlySpan<byte> answer)
    {
        var trimmed = answer.TrimStart(" \r\n\t"u8);
        var response = !trimmed.IsEmpty && trimmed[0] == (byte)'{' ? trimmed.ToArray() : CompletedResponseOf(answer);
        if (response is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(response);
            var root = document.RootElement;
            if (ResponsesRequestTranslator.StringOf(root, "object") != "response" || ResponsesRequestTranslator.StringOf(root, "status") is not ("completed" or "incomplete"))
            {
                return null;
            }

            var text = new System.Text.StringBuilder();
            var calls = new List<JsonElement>();
            if (root.TryGetProperty("output", out var output) && output.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in output.EnumerateArray())
                {
                    switch (ResponsesRequestTranslator.StringOf(item, "type"))
                    {
                        case "message" when item.TryGetProperty("content", out var content):
                            text.Append(ResponsesRequestTranslator.TextOfParts(content));
                            break;
                        case "function_call":
                            calls.Add(item);
                            break;
                    }
                }
            }

            var incomplete = ResponsesRequestTranslator.StringOf(root, "status") == "incomplete";
            return ResponseObjectWriter.Serialize(json =>
            {
                json.WriteStartObject();
                json.WriteString("id"u8, "chatcmpl-" + Guid.NewGuid().ToString("N"));
                json.WriteString("object"u8, "chat.completion"u8);
                json.WriteNumber("created"u8, root.TryGetProperty("created_at", out var created) && created.TryGetInt64(out var at) ? at : 0);
                json.WriteString("model"u8, ResponsesRequestTranslator.StringOf(root, "model") ?? "");
                json.WriteStartArray("choices"u8);
                json.WriteStartObject();
                json.WriteNumber("index"u8, 0);
                json.WriteStartObject("message"u8);
                json.WriteString("role"u8, "assistant"u8);
                if (text.Length == 0 && calls.Count > 0)
                {
                    json.WriteNull("content"u8);
                }
                else
                {
                    json.WriteString("content"u8, text.ToString());
                }

                if (calls.Count > 0)
                {
                    json.WriteStartArray("tool_calls"u8);
                    foreach (var call in calls)
                    {
                        json.WriteStartObject();
                        json.WriteString("id"u8, ResponsesRequestTranslator.StringOf(call, "call_id") ?? "");
                        json.WriteString("type"u8, "function"u8);
                        json.WriteStartObject("function"u8);
                        json.WriteString("name"u8, ResponsesRequestTranslator.StringOf(call, "name") ?? "");
                        json.WriteString("arguments"u8, ResponsesRequestTranslator.StringOf(call, "arguments") ?? "{}");
                        json.WriteEndObject();
                        json.WriteEndObject();
                    }

                    json.WriteEndArray();
                }

                json.WriteEndObject();
                json.WriteString("finish_reason"u8, calls.Count > 0 ? "tool_calls" : incomplete ? "length" : "stop");
                json.WriteEndObject();
                json.WriteEndArray();
                if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    var input = Count(usage, "input_tokens");
                    var outputTokens = Count(usage, "output_tokens");
                    json.WriteStartObject("usage"u8);
                    json.WriteNumber("prompt_tokens"u8, input);
                    json.WriteNumber("completion_tokens"u8, outputTokens);
                    json.WriteNumber("total_tokens"u8, input + outputTokens);
                    json.WriteEndObject();
                }

                json.WriteEndObject();
            });
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // The response object of the stream's response.completed (or response.incomplete) event.
    private static byte[]? CompletedResponseOf(ReadOnlySpan<byte> stream)
    {
        using var splitter = new SseEventSplitter();
        byte[]? found = null;
        var input = stream;
        while (true)
        {
            if (!splitter.Next(ref input, out var lines))
            {
                lines = splitter.TakeRest();
                if (lines.IsEmpty)
                {
                    return found;
                }
            }

            var sseEvent = SseEvent.Parse(lines);
            if (sseEvent.Name.SequenceEqual("response.completed"u8) || sseEvent.Name.SequenceEqual("response.incomplete"u8))
            {
                try
                {
                    using var document = JsonDocument.Parse(sseEvent.Data.ToArray());
                    if (document.RootElement.TryGetProperty("response", out var response))
                    {
                        found = System.Text.Encoding.UTF8.GetBytes(response.GetRawText());
                    }
                }
                catch (JsonException)
                {
                    return null;
                }
            }
        }
    }

    private static int Count(JsonElement usage, string name) =>
        usage.TryGetProperty(name, out var value) && value.TryGetInt32(out var count) ? count : 0;
}
