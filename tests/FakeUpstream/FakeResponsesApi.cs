using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FakeUpstream;

/// <summary>
/// The OpenAI Responses API as vLLM serves it: POST /v1/responses (JSON, or SSE events with <c>event:</c> lines and
/// <c>sequence_number</c>, no [DONE]), GET /v1/responses/{id}, POST /v1/responses/{id}/cancel, and OpenAI's DELETE
/// /v1/responses/{id} and GET /v1/responses/{id}/input_items. Each server remembers only the responses it made
/// (store defaults to true), so a chain with previous_response_id works only on the server that holds it; anything
/// else is vLLM's 404 "Response with id '…' not found.".
/// </summary>
internal sealed class FakeResponsesApi(FakeUpstreamServer server)
{
    public const string Path = "/v1/responses";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Dictionary<string, Stored> _store = new(StringComparer.Ordinal);

    /// <summary>Responses this server holds (for tests that check where a chain went).</summary>
    public int StoredCount
    {
        get
        {
            lock (_store)
            {
                return _store.Count;
            }
        }
    }

    public async Task HandleAsync(HttpContext context, string path, string body, CancellationToken cancellationToken)
    {
        var method = context.Request.Method;
        var rest = path.Length > Path.Length ? path[(Path.Length + 1)..] : "";
        if (rest.Length == 0)
        {
            if (!HttpMethods.IsPost(method))
            {
                await WriteAsync(context, 405, Error("Method Not Allowed", "invalid_request_error"), cancellationToken);
                return;
            }

            await CreateAsync(context, body, cancellationToken);
            return;
        }

        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var id = slash < 0 ? rest : rest[..slash];
        var action = slash < 0 ? "" : rest[(slash + 1)..];
        var stored = Find(id);
        if (stored is null)
        {
            await NotFoundAsync(context, id, cancellationToken);
            return;
        }

        switch (method, action)
        {
            case ("GET", ""):
                await WriteAsync(context, 200, stored.Json, cancellationToken);
                return;
            case ("DELETE", ""):
                lock (_store)
                {
                    _store.Remove(id);
                }

                await WriteAsync(context, 200, Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("id", id);
                    w.WriteString("object", "response");
                    w.WriteBoolean("deleted", true);
                    w.WriteEndObject();
                }), cancellationToken);
                return;
            case ("POST", "cancel"):
                await WriteAsync(context, 200, stored.Json, cancellationToken);
                return;
            case ("GET", "input_items"):
                await WriteAsync(context, 200, Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("object", "list");
                    w.WriteStartArray("data");
                    foreach (var item in stored.InputItems)
                    {
                        w.WriteRawValue(item);
                    }

                    w.WriteEndArray();
                    w.WriteString("first_id", stored.InputItemIds.Count > 0 ? stored.InputItemIds[0] : null);
                    w.WriteString("last_id", stored.InputItemIds.Count > 0 ? stored.InputItemIds[^1] : null);
                    w.WriteBoolean("has_more", false);
                    w.WriteEndObject();
                }), cancellationToken);
                return;
            default:
                await WriteAsync(context, 404, Error("Not Found", "invalid_request_error"), cancellationToken);
                return;
        }
    }

    private async Task CreateAsync(HttpContext context, string body, CancellationToken cancellationToken)
    {
        var options = server.Options;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            await WriteAsync(context, 400, Error("JSON decode error: " + ex.Message, "BadRequestError"), cancellationToken);
            return;
        }

        using var _ = document;
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            await WriteAsync(context, 400, Error("Input should be a valid dictionary", "BadRequestError"), cancellationToken);
            return;
        }

        var settings = RequestSettings.From(options, context.Request.Headers, root);
        if (settings.Latency > TimeSpan.Zero)
        {
            await Task.Delay(settings.Latency, cancellationToken);
        }

        if (settings.Status is >= 400 and var status)
        {
            await WriteAsync(context, status, Error($"Fake failure {status}", status == 429 ? "RateLimitError" : "InternalServerError"), cancellationToken);
            return;
        }

        if (!root.TryGetProperty("input", out var input) || input.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            await WriteAsync(context, 400, Error("Field required: input", "BadRequestError"), cancellationToken);
            return;
        }

        var previousId = root.TryGetProperty("previous_response_id", out var previous) && previous.ValueKind == JsonValueKind.String ? previous.GetString() : null;
        var prior = previousId is null ? null : Find(previousId);
        if (previousId is not null && prior is null)
        {
            await NotFoundAsync(context, previousId, cancellationToken);
            return;
        }

        var (promptChars, lastUser, toolOutput, items) = ReadInput(input);
        if (root.TryGetProperty("instructions", out var instructions) && instructions.ValueKind == JsonValueKind.String)
        {
            promptChars += instructions.GetString()!.Length;
        }

        var inputTokens = Math.Max(1, (int)Math.Ceiling(promptChars / options.CharsPerToken)) + (prior?.HistoryTokens ?? 0);
        int? maxOutput = root.TryGetProperty("max_output_tokens", out var max) && max.TryGetInt32(out var m) ? m : null;
        var wanted = settings.Tokens ?? options.DefaultCompletionTokens;
        var tokens = maxOutput is { } cap ? Math.Min(cap, wanted) : wanted;
        var tool = lastUser is not null && lastUser.Contains("weather", StringComparison.OrdinalIgnoreCase) ? FirstTool(root) : null;
        var text = toolOutput is not null ? "The tool returned: " + toolOutput : string.Concat(Enumerable.Repeat(" hello", tokens));
        if (tool is not null)
        {
            tokens = 8;
        }
        else if (toolOutput is not null)
        {
            tokens = Math.Max(1, text.Length / 4);
        }

        var response = new Answer
        {
            Id = "resp_" + Guid.NewGuid().ToString("N"),
            ItemId = (tool is null ? "msg_" : "fc_") + Guid.NewGuid().ToString("N"),
            CallId = "call_" + Guid.NewGuid().ToString("N")[..24],
            Model = root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String ? model.GetString()! : options.ServedModel,
            PreviousId = previousId,
            Created = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds(),
            InputTokens = inputTokens,
            OutputTokens = tokens,
            Text = text,
            Tool = tool,
            Incomplete = tool is null && toolOutput is null && maxOutput is { } limit && limit < wanted,
        };
        var store = !(root.TryGetProperty("store", out var storeFlag) && storeFlag.ValueKind == JsonValueKind.False);
        var stream = root.TryGetProperty("stream", out var streamFlag) && streamFlag.ValueKind == JsonValueKind.True;
        var final = Json(w => WriteResponse(w, response, done: true));
        if (store)
        {
            lock (_store)
            {
                _store[response.Id] = new Stored(final, items.Select(i => i.Json).ToList(), items.Select(i => i.Id).ToList(), inputTokens + tokens);
            }
        }

        if (!stream)
        {
            await WriteAsync(context, 200, final, cancellationToken);
            return;
        }

        await StreamAsync(context, response, settings.ChunkDelay, cancellationToken);
    }

    private static async Task StreamAsync(HttpContext context, Answer response, TimeSpan delay, CancellationToken cancellationToken)
    {
        var http = context.Response;
        http.StatusCode = 200;
        http.ContentType = "text/event-stream";
        var sequence = 0;
        async Task SendAsync(string type, Action<Utf8JsonWriter> fields, bool delayed = false)
        {
            if (delayed && delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, cancellationToken);
            }

            var data = Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("type", type);
                w.WriteNumber("sequence_number", sequence++);
                fields(w);
                w.WriteEndObject();
            });
            await http.WriteAsync($"event: {type}\ndata: {Encoding.UTF8.GetString(data)}\n\n", cancellationToken);
            await http.Body.FlushAsync(cancellationToken);
        }

        await SendAsync("response.created", w => { w.WritePropertyName("response"); WriteResponse(w, response, done: false); });
        await SendAsync("response.in_progress", w => { w.WritePropertyName("response"); WriteResponse(w, response, done: false); });
        if (response.Tool is { } tool)
        {
            await SendAsync("response.output_item.added", w => { w.WriteNumber("output_index", 0); w.WritePropertyName("item"); WriteFunctionCall(w, response, tool, "in_progress", ""); });
            const string arguments = "{\"city\":\"Paris\"}";
            foreach (var piece in new[] { "{\"city\"", ":\"Paris\"}" })
            {
                await SendAsync("response.function_call_arguments.delta", w => { w.WriteString("item_id", response.ItemId); w.WriteNumber("output_index", 0); w.WriteString("delta", piece); }, delayed: true);
            }

            await SendAsync("response.function_call_arguments.done", w => { w.WriteString("item_id", response.ItemId); w.WriteNumber("output_index", 0); w.WriteString("arguments", arguments); });
            await SendAsync("response.output_item.done", w => { w.WriteNumber("output_index", 0); w.WritePropertyName("item"); WriteFunctionCall(w, response, tool, "completed", arguments); });
        }
        else
        {
            await SendAsync("response.output_item.added", w => { w.WriteNumber("output_index", 0); w.WritePropertyName("item"); WriteMessage(w, response, "in_progress", null); });
            await SendAsync("response.content_part.added", w => { WriteItemRef(w, response); w.WritePropertyName("part"); WriteTextPart(w, ""); });
            foreach (var piece in Pieces(response.Text))
            {
                await SendAsync("response.output_text.delta", w => { WriteItemRef(w, response); w.WriteString("delta", piece); w.WriteStartArray("logprobs"); w.WriteEndArray(); }, delayed: true);
            }

            await SendAsync("response.output_text.done", w => { WriteItemRef(w, response); w.WriteString("text", response.Text); w.WriteStartArray("logprobs"); w.WriteEndArray(); });
            await SendAsync("response.content_part.done", w => { WriteItemRef(w, response); w.WritePropertyName("part"); WriteTextPart(w, response.Text); });
            await SendAsync("response.output_item.done", w => { w.WriteNumber("output_index", 0); w.WritePropertyName("item"); WriteMessage(w, response, "completed", response.Text); });
        }

        await SendAsync(response.Incomplete ? "response.incomplete" : "response.completed", w => { w.WritePropertyName("response"); WriteResponse(w, response, done: true); });
    }

    private static IEnumerable<string> Pieces(string text)
    {
        // One piece per " word", as the chat stream sends one token per chunk.
        var start = 0;
        for (var i = 1; i <= text.Length; i++)
        {
            if (i == text.Length || text[i] == ' ')
            {
                yield return text[start..i];
                start = i;
            }
        }
    }

    private static void WriteResponse(Utf8JsonWriter w, Answer r, bool done)
    {
        w.WriteStartObject();
        w.WriteString("id", r.Id);
        w.WriteString("object", "response");
        w.WriteNumber("created_at", r.Created);
        w.WriteString("model", r.Model);
        w.WriteString("status", !done ? "in_progress" : r.Incomplete ? "incomplete" : "completed");
        if (done && r.Incomplete)
        {
            w.WriteStartObject("incomplete_details");
            w.WriteString("reason", "max_output_tokens");
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("incomplete_details");
        }

        w.WriteString("previous_response_id", r.PreviousId);
        w.WriteStartArray("output");
        if (done)
        {
            if (r.Tool is { } tool)
            {
                WriteFunctionCall(w, r, tool, "completed", "{\"city\":\"Paris\"}");
            }
            else
            {
                WriteMessage(w, r, "completed", r.Text);
            }
        }

        w.WriteEndArray();
        w.WriteBoolean("parallel_tool_calls", true);
        if (done)
        {
            w.WriteStartObject("usage");
            w.WriteNumber("input_tokens", r.InputTokens);
            w.WriteStartObject("input_tokens_details");
            w.WriteNumber("cached_tokens", 0);
            w.WriteEndObject();
            w.WriteNumber("output_tokens", r.OutputTokens);
            w.WriteStartObject("output_tokens_details");
            w.WriteNumber("reasoning_tokens", 0);
            w.WriteEndObject();
            w.WriteNumber("total_tokens", r.InputTokens + r.OutputTokens);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("usage");
        }

        w.WriteEndObject();
    }

    private static void WriteMessage(Utf8JsonWriter w, Answer r, string status, string? text)
    {
        w.WriteStartObject();
        w.WriteString("id", r.ItemId);
        w.WriteString("type", "message");
        w.WriteString("role", "assistant");
        w.WriteString("status", status);
        w.WriteStartArray("content");
        if (text is not null)
        {
            WriteTextPart(w, text);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteFunctionCall(Utf8JsonWriter w, Answer r, string tool, string status, string arguments)
    {
        w.WriteStartObject();
        w.WriteString("id", r.ItemId);
        w.WriteString("type", "function_call");
        w.WriteString("status", status);
        w.WriteString("call_id", r.CallId);
        w.WriteString("name", tool);
        w.WriteString("arguments", arguments);
        w.WriteEndObject();
    }

    private static void WriteTextPart(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("type", "output_text");
        w.WriteString("text", text);
        w.WriteStartArray("annotations");
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteItemRef(Utf8JsonWriter w, Answer r)
    {
        w.WriteString("item_id", r.ItemId);
        w.WriteNumber("output_index", 0);
        w.WriteNumber("content_index", 0);
    }

    private static (int Chars, string? LastUser, string? ToolOutput, List<(string Id, byte[] Json)> Items) ReadInput(JsonElement input)
    {
        var items = new List<(string, byte[])>();
        if (input.ValueKind == JsonValueKind.String)
        {
            var text = input.GetString()!;
            items.Add(UserItem(text));
            return (text.Length, text, null, items);
        }

        var chars = 0;
        string? lastUser = null;
        string? toolOutput = null;
        foreach (var item in input.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var type = item.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : "message";
            lastUser = null;
            toolOutput = null;
            switch (type)
            {
                case "function_call_output":
                    toolOutput = item.TryGetProperty("output", out var output) ? TextOf(output) : "";
                    chars += toolOutput.Length;
                    break;
                case "function_call":
                    chars += item.TryGetProperty("arguments", out var arguments) ? TextOf(arguments).Length : 0;
                    break;
                default:
                    var text = item.TryGetProperty("content", out var content) ? TextOf(content) : "";
                    chars += text.Length;
                    if (!item.TryGetProperty("role", out var role) || role.GetString() == "user")
                    {
                        lastUser = text;
                    }

                    break;
            }

            var id = "item_" + Guid.NewGuid().ToString("N");
            items.Add((id, Encoding.UTF8.GetBytes(item.GetRawText())));
        }

        return (chars, lastUser, toolOutput, items);
    }

    private static (string Id, byte[] Json) UserItem(string text)
    {
        var id = "msg_" + Guid.NewGuid().ToString("N");
        return (id, Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("type", "message");
            w.WriteString("role", "user");
            w.WriteStartArray("content");
            w.WriteStartObject();
            w.WriteString("type", "input_text");
            w.WriteString("text", text);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }));
    }

    private static string TextOf(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString()!;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            return "";
        }

        var builder = new StringBuilder();
        foreach (var part in value.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
            {
                builder.Append(text.GetString());
            }
        }

        return builder.ToString();
    }

    private static string? FirstTool(JsonElement root)
    {
        if (!root.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
            {
                return name.GetString();
            }
        }

        return null;
    }

    private Stored? Find(string id)
    {
        lock (_store)
        {
            return _store.GetValueOrDefault(id);
        }
    }

    private static Task NotFoundAsync(HttpContext context, string id, CancellationToken cancellationToken) =>
        WriteAsync(context, 404, Error($"Response with id '{id}' not found.", "invalid_request_error"), cancellationToken);

    private static byte[] Error(string message, string type) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", message);
        w.WriteString("type", type);
        w.WriteNull("param");
        w.WriteNumber("code", 400);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    private static async Task WriteAsync(HttpContext context, int status, byte[] json, CancellationToken cancellationToken)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(json, cancellationToken);
    }

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }

        return buffer.ToArray();
    }

    private sealed record Stored(byte[] Json, List<byte[]> InputItems, List<string> InputItemIds, int HistoryTokens);

    private sealed class Answer
    {
        public required string Id { get; init; }

        public required string ItemId { get; init; }

        public required string CallId { get; init; }

        public required string Model { get; init; }

        public string? PreviousId { get; init; }

        public long Created { get; init; }

        public int InputTokens { get; init; }

        public int OutputTokens { get; init; }

        public required string Text { get; init; }

        public string? Tool { get; init; }

        public bool Incomplete { get; init; }
    }
}
