using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FakeUpstream;

/// <summary>
/// Anthropic's Messages API as api.anthropic.com (or vLLM 0.12+) answers it: the message JSON, the event sequence
/// (message_start, content_block_start, ping, deltas, content_block_stop, message_delta, message_stop), tool_use
/// with input_json_delta, thinking blocks, count_tokens, and Anthropic's error bodies (429 and 529 with retry-after).
/// </summary>
internal sealed partial class FakeHandler
{
    private const string MessagesPath = "/v1/messages";
    private const string CountTokensPath = "/v1/messages/count_tokens";

    private async Task MessagesAsync(HttpContext context, string path, JsonElement? root, RequestSettings settings, CancellationToken cancellationToken)
    {
        var options = server.Options;
        var headers = context.Request.Headers;
        if (options.AnthropicHeadersRequired)
        {
            if (string.IsNullOrEmpty(headers["x-api-key"].ToString()))
            {
                await AnthropicErrorAsync(context, 401, "authentication_error", "x-api-key header is required", 0, cancellationToken);
                return;
            }

            if (string.IsNullOrEmpty(headers["anthropic-version"].ToString()))
            {
                await AnthropicErrorAsync(context, 400, "invalid_request_error", "anthropic-version: header is required", 0, cancellationToken);
                return;
            }
        }

        if (settings.Status is >= 400 and var status)
        {
            var type = status switch
            {
                400 => "invalid_request_error",
                401 => "authentication_error",
                403 => "permission_error",
                404 => "not_found_error",
                429 => "rate_limit_error",
                529 => "overloaded_error",
                _ => "api_error",
            };
            var message = status switch
            {
                429 => "Number of request tokens has exceeded your per-minute rate limit",
                529 => "Overloaded",
                _ => "Internal server error",
            };
            await AnthropicErrorAsync(context, status, type, message, settings.RetryAfterSeconds, cancellationToken);
            return;
        }

        if (root is not { ValueKind: JsonValueKind.Object } request)
        {
            await AnthropicErrorAsync(context, 400, "invalid_request_error", "The request body is not valid JSON.", 0, cancellationToken);
            return;
        }

        var countOnly = path == CountTokensPath;
        if (!request.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            await AnthropicErrorAsync(context, 400, "invalid_request_error", "messages: Field required", 0, cancellationToken);
            return;
        }

        if (!countOnly && !request.TryGetProperty("max_tokens", out _))
        {
            await AnthropicErrorAsync(context, 400, "invalid_request_error", "max_tokens: Field required", 0, cancellationToken);
            return;
        }

        var promptChars = request.TryGetProperty("system", out var system) ? BlocksText(system).Length : 0;
        JsonElement last = default;
        foreach (var message in messages.EnumerateArray())
        {
            promptChars += message.TryGetProperty("content", out var content) ? BlocksText(content).Length : 0;
            last = message;
        }

        var promptTokens = PromptTokens(promptChars, options);
        if (countOnly)
        {
            await WriteJsonAsync(context, 200, Json(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("input_tokens", promptTokens);
                w.WriteEndObject();
            }), cancellationToken);
            return;
        }

        int? maxTokens = request.TryGetProperty("max_tokens", out var max) && max.TryGetInt32(out var m) ? m : null;
        var toolResult = ToolResultText(last);
        var tool = toolResult is null && settings.ToolCall ? FirstToolName(request) : null;
        var generation = toolResult is not null
            ? new Generation(SplitPieces("Tool result: " + toolResult), "stop")
            : Generate(settings, options, maxTokens, null);
        var stopReason = tool is not null ? "tool_use" : generation.FinishReason == "length" ? "max_tokens" : "end_turn";
        var id = "msg_" + Guid.NewGuid().ToString("N");
        var toolId = "toolu_" + Guid.NewGuid().ToString("N")[..24];
        var model = ModelOf(request, options);
        var outputTokens = tool is not null ? 12 : generation.Tokens;

        if (!IsTrue(request, "stream"))
        {
            await WriteJsonAsync(context, 200, Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("id", id);
                w.WriteString("type", "message");
                w.WriteString("role", "assistant");
                w.WriteString("model", model);
                w.WriteStartArray("content");
                if (settings.Reasoning is { } reasoning)
                {
                    w.WriteStartObject();
                    w.WriteString("type", "thinking");
                    w.WriteString("thinking", reasoning);
                    w.WriteString("signature", "c2lnbmF0dXJl");
                    w.WriteEndObject();
                }

                if (tool is null)
                {
                    w.WriteStartObject();
                    w.WriteString("type", "text");
                    w.WriteString("text", generation.Text);
                    w.WriteEndObject();
                }
                else
                {
                    w.WriteStartObject();
                    w.WriteString("type", "tool_use");
                    w.WriteString("id", toolId);
                    w.WriteString("name", tool);
                    w.WritePropertyName("input");
                    w.WriteRawValue(settings.ToolArguments);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteString("stop_reason", stopReason);
                w.WriteNull("stop_sequence");
                WriteAnthropicUsage(w, promptTokens, outputTokens);
                w.WriteEndObject();
            }), cancellationToken);
            return;
        }

        var events = new List<(string Name, byte[] Json, bool Delayed)>
        {
            ("message_start", Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("type", "message_start");
                w.WriteStartObject("message");
                w.WriteString("id", id);
                w.WriteString("type", "message");
                w.WriteString("role", "assistant");
                w.WriteString("model", model);
                w.WriteStartArray("content");
                w.WriteEndArray();
                w.WriteNull("stop_reason");
                w.WriteNull("stop_sequence");
                WriteAnthropicUsage(w, promptTokens, 1);
                w.WriteEndObject();
                w.WriteEndObject();
            }), false),
        };
        var index = 0;
        if (settings.Reasoning is { } thinking)
        {
            events.Add(("content_block_start", BlockStart(index, w =>
            {
                w.WriteString("type", "thinking");
                w.WriteString("thinking", "");
                w.WriteString("signature", "");
            }), false));
            foreach (var piece in SplitPieces(thinking))
            {
                events.Add(("content_block_delta", Delta(index, "thinking_delta", "thinking", piece), true));
            }

            events.Add(("content_block_delta", Delta(index, "signature_delta", "signature", "c2lnbmF0dXJl"), false));
            events.Add(("content_block_stop", BlockStop(index), false));
            index++;
        }

        if (tool is null)
        {
            events.Add(("content_block_start", BlockStart(index, w =>
            {
                w.WriteString("type", "text");
                w.WriteString("text", "");
            }), false));
            events.Add(("ping", "{\"type\": \"ping\"}"u8.ToArray(), false));
            var first = true;
            foreach (var piece in generation.Pieces)
            {
                events.Add(("content_block_delta", Delta(index, "text_delta", "text", piece), true));
                if (first && settings.StreamError is { } streamError)
                {
                    // A failure after the first byte: Anthropic ends the stream with an error event.
                    events.Add(("error", Json(w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("type", "error");
                        w.WriteStartObject("error");
                        w.WriteString("type", streamError);
                        w.WriteString("message", "Overloaded");
                        w.WriteEndObject();
                        w.WriteEndObject();
                    }), false));
                    await StreamAnthropicAsync(context, events, settings, cancellationToken);
                    return;
                }

                first = false;
            }
        }
        else
        {
            events.Add(("content_block_start", BlockStart(index, w =>
            {
                w.WriteString("type", "tool_use");
                w.WriteString("id", toolId);
                w.WriteString("name", tool);
                w.WriteStartObject("input");
                w.WriteEndObject();
            }), false));
            var arguments = settings.ToolArguments;
            var half = arguments.Length / 2;
            events.Add(("content_block_delta", Delta(index, "input_json_delta", "partial_json", ""), true));
            events.Add(("content_block_delta", Delta(index, "input_json_delta", "partial_json", arguments[..half]), true));
            events.Add(("content_block_delta", Delta(index, "input_json_delta", "partial_json", arguments[half..]), true));
        }

        events.Add(("content_block_stop", BlockStop(index), false));
        events.Add(("message_delta", Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "message_delta");
            w.WriteStartObject("delta");
            w.WriteString("stop_reason", stopReason);
            w.WriteNull("stop_sequence");
            w.WriteEndObject();
            w.WriteStartObject("usage");
            w.WriteNumber("output_tokens", outputTokens);
            w.WriteEndObject();
            w.WriteEndObject();
        }), false));
        events.Add(("message_stop", "{\"type\":\"message_stop\"}"u8.ToArray(), false));
        await StreamAnthropicAsync(context, events, settings, cancellationToken);
    }

    private async Task StreamAnthropicAsync(HttpContext context, List<(string Name, byte[] Json, bool Delayed)> events, RequestSettings settings, CancellationToken cancellationToken)
    {
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        await response.StartAsync(cancellationToken);
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i].Delayed && settings.ChunkDelay > TimeSpan.Zero)
            {
                await Task.Delay(settings.ChunkDelay, cancellationToken);
            }

            var frame = Encoding.UTF8.GetBytes("event: " + events[i].Name + "\ndata: ").Concat(events[i].Json).Concat("\n\n"u8.ToArray()).ToArray();
            await response.Body.WriteAsync(frame, cancellationToken);
            await response.Body.FlushAsync(cancellationToken);
            server.OnChunkSent(i);
            if (settings.DropAfterChunks is int drop && i + 1 >= drop)
            {
                await AbortAfterSendAsync(context);
                return;
            }
        }
    }

    private static byte[] BlockStart(int index, Action<Utf8JsonWriter> block) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteString("type", "content_block_start");
        w.WriteNumber("index", index);
        w.WriteStartObject("content_block");
        block(w);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    private static byte[] Delta(int index, string type, string field, string value) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteString("type", "content_block_delta");
        w.WriteNumber("index", index);
        w.WriteStartObject("delta");
        w.WriteString("type", type);
        w.WriteString(field, value);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    private static byte[] BlockStop(int index) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteString("type", "content_block_stop");
        w.WriteNumber("index", index);
        w.WriteEndObject();
    });

    private static void WriteAnthropicUsage(Utf8JsonWriter w, int inputTokens, int outputTokens)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("input_tokens", inputTokens);
        w.WriteNumber("cache_creation_input_tokens", 0);
        w.WriteNumber("cache_read_input_tokens", 0);
        w.WriteNumber("output_tokens", outputTokens);
        w.WriteEndObject();
    }

    private static async Task AnthropicErrorAsync(HttpContext context, int status, string type, string message, int retryAfterSeconds, CancellationToken cancellationToken)
    {
        if (retryAfterSeconds > 0 && status is 429 or 529)
        {
            context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        }

        await WriteJsonAsync(context, status, Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "error");
            w.WriteStartObject("error");
            w.WriteString("type", type);
            w.WriteString("message", message);
            w.WriteEndObject();
            w.WriteEndObject();
        }), cancellationToken);
    }

    /// <summary>The text of a Messages content value: a string, or the text of its text and tool_result blocks.</summary>
    private static string BlocksText(JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString() ?? "";
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return "";
        }

        var text = new StringBuilder();
        foreach (var block in content.EnumerateArray())
        {
            if (block.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            if (block.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
            {
                text.Append(t.GetString());
            }
            else if (block.TryGetProperty("content", out var inner))
            {
                text.Append(BlocksText(inner));
            }
        }

        return text.ToString();
    }

    /// <summary>The last user turn's tool_result text, when it answers a tool call; else null.</summary>
    private static string? ToolResultText(JsonElement last)
    {
        if (last.ValueKind != JsonValueKind.Object || !last.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var block in content.EnumerateArray())
        {
            if (block.ValueKind == JsonValueKind.Object && block.TryGetProperty("type", out var type) && type.GetString() == "tool_result")
            {
                return block.TryGetProperty("content", out var result) ? BlocksText(result) : "";
            }
        }

        return null;
    }

    private static string? FirstToolName(JsonElement request)
    {
        if (!request.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
            {
                return name.GetString();
            }

            if (tool.TryGetProperty("function", out var function) && function.TryGetProperty("name", out var fname))
            {
                return fname.GetString();
            }
        }

        return null;
    }
}
