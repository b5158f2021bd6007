using System.Text.Json;

namespace FakeUpstream;

/// <summary>
/// vLLM's tool calling and reasoning on chat: with <c>x-fake-tool-call: true</c> (or <c>fake_tool_call</c>) and tools in
/// the request, the answer is a call of the first tool (streamed as an id/name chunk and argument pieces, finish
/// <c>tool_calls</c>); a conversation that ends with a tool message is answered "Tool result: ..."; with
/// <c>x-fake-reasoning</c> the answer starts with that reasoning_content.
/// </summary>
internal sealed partial class FakeHandler
{
    private async Task<bool> TryToolsOrReasoningAsync(
        HttpContext context, JsonElement request, JsonElement messages, RequestSettings settings, int promptTokens, int? maxTokens, CancellationToken cancellationToken)
    {
        var last = messages.GetArrayLength() > 0 ? messages[messages.GetArrayLength() - 1] : default;
        var afterTool = last.ValueKind == JsonValueKind.Object && last.TryGetProperty("role", out var role) && role.GetString() == "tool";
        var asked = settings.ToolCall || (server.Options.ToolCallOnWeather && last.ValueKind == JsonValueKind.Object
            && last.TryGetProperty("content", out var asking) && ContentText(asking).Contains("weather", StringComparison.OrdinalIgnoreCase));
        var tool = !afterTool && asked ? FirstToolName(request) : null;
        if (tool is null && !afterTool && settings.Reasoning is null)
        {
            return false;
        }

        var options = server.Options;
        var generation = afterTool
            ? new Generation(SplitPieces("Tool result: " + (last.TryGetProperty("content", out var content) ? ContentText(content) : "")), "stop")
            : Generate(settings, options, maxTokens, null);
        var finish = tool is not null ? "tool_calls" : generation.FinishReason;
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var callId = "chatcmpl-tool-" + Guid.NewGuid().ToString("N");
        var created = Now();
        var model = ModelOf(request, options);
        var completionTokens = tool is not null ? 12 : generation.Tokens;

        if (!IsTrue(request, "stream"))
        {
            await WriteJsonAsync(context, 200, Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("id", id);
                w.WriteString("object", "chat.completion");
                w.WriteNumber("created", created);
                w.WriteString("model", model);
                w.WriteStartArray("choices");
                w.WriteStartObject();
                w.WriteNumber("index", 0);
                w.WriteStartObject("message");
                w.WriteString("role", "assistant");
                w.WriteString("reasoning_content", settings.Reasoning);
                if (tool is null)
                {
                    w.WriteString("content", generation.Text);
                    w.WriteStartArray("tool_calls");
                    w.WriteEndArray();
                }
                else
                {
                    w.WriteNull("content");
                    w.WriteStartArray("tool_calls");
                    w.WriteStartObject();
                    w.WriteString("id", callId);
                    w.WriteString("type", "function");
                    w.WriteStartObject("function");
                    w.WriteString("name", tool);
                    w.WriteString("arguments", settings.ToolArguments);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndArray();
                }

                w.WriteEndObject();
                w.WriteNull("logprobs");
                w.WriteString("finish_reason", finish);
                w.WriteNull("stop_reason");
                w.WriteEndObject();
                w.WriteEndArray();
                WriteUsage(w, promptTokens, completionTokens, details: true);
                w.WriteEndObject();
            }), cancellationToken);
            return true;
        }

        var events = new List<SseEvent> { new(ChatChunk(id, created, model, role: "assistant", content: string.Empty, finishReason: null), Delayed: false) };
        if (settings.Reasoning is { } reasoning)
        {
            foreach (var piece in SplitPieces(reasoning))
            {
                events.Add(new SseEvent(DeltaChunk(id, created, model, w => w.WriteString("reasoning_content", piece), null), Delayed: true));
            }
        }

        if (tool is null)
        {
            for (var i = 0; i < generation.Pieces.Count; i++)
            {
                var piece = generation.Pieces[i];
                events.Add(new SseEvent(DeltaChunk(id, created, model, w => w.WriteString("content", piece), null), Delayed: true));
            }
        }
        else
        {
            events.Add(new SseEvent(DeltaChunk(id, created, model, w => ToolCallDelta(w, callId, tool, ""), null), Delayed: true));
            var arguments = settings.ToolArguments;
            var half = arguments.Length / 2;
            events.Add(new SseEvent(DeltaChunk(id, created, model, w => ToolCallDelta(w, null, null, arguments[..half]), null), Delayed: true));
            events.Add(new SseEvent(DeltaChunk(id, created, model, w => ToolCallDelta(w, null, null, arguments[half..]), null), Delayed: true));
        }

        events.Add(new SseEvent(DeltaChunk(id, created, model, _ => { }, finish), Delayed: true));
        if (IncludeUsage(request))
        {
            events.Add(new SseEvent(UsageChunk(id, "chat.completion.chunk", created, model, promptTokens, completionTokens), Delayed: false));
        }

        await StreamAsync(context, events, settings, cancellationToken);
        return true;
    }

    private static void ToolCallDelta(Utf8JsonWriter w, string? id, string? name, string arguments)
    {
        w.WriteStartArray("tool_calls");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        if (id is not null)
        {
            w.WriteString("id", id);
            w.WriteString("type", "function");
        }

        w.WriteStartObject("function");
        if (name is not null)
        {
            w.WriteString("name", name);
        }

        w.WriteString("arguments", arguments);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
    }

    private static byte[] DeltaChunk(string id, long created, string model, Action<Utf8JsonWriter> delta, string? finishReason) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", "chat.completion.chunk");
        w.WriteNumber("created", created);
        w.WriteString("model", model);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("delta");
        delta(w);
        w.WriteEndObject();
        w.WriteNull("logprobs");
        w.WriteString("finish_reason", finishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    });
}
