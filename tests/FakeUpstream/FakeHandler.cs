using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;

namespace FakeUpstream;

/// <summary>Answers every request the way vLLM's OpenAI-compatible server would, with the faults the settings ask for.</summary>
internal sealed partial class FakeHandler(FakeUpstreamServer server)
{
    /// <summary>The Responses API endpoints, with this server's own store.</summary>
    public FakeResponsesApi Responses { get; } = new(server);

    private const string ChatPath = "/v1/chat/completions";
    private const string CompletionsPath = "/v1/completions";
    private const string EmbeddingsPath = "/v1/embeddings";
    private const string ModerationsPath = "/v1/moderations";

    private static readonly string[] Words = ["The", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "and", "runs", "away"];

    private static readonly string[] ModerationCategories =
    [
        "hate", "hate/threatening", "harassment", "harassment/threatening", "self-harm", "self-harm/intent",
        "self-harm/instructions", "sexual", "sexual/minors", "violence", "violence/graphic",
    ];

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        try
        {
            if (await TryHandlePoolingAsync(context, path)) { return; }

            var body = await ReadBodyAsync(request, context.RequestAborted);
            server.Record(new RecordedRequest(request.Method, path, CopyHeaders(request.Headers), body));
            foreach (var (name, value) in server.Options.ResponseHeaders)
            {
                context.Response.Headers[name] = value;
            }

            if (path.StartsWith(FakeResponsesApi.Path, StringComparison.Ordinal))
            {
                server.CountPost(path);
                using var responsesCts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, server.StoppingToken);
                await Responses.HandleAsync(context, path, body, responsesCts.Token);
                return;
            }

            if (HttpMethods.IsGet(request.Method))
            {
                await GetAsync(context, path);
                return;
            }

            if (!HttpMethods.IsPost(request.Method))
            {
                var known = path is ChatPath or CompletionsPath or EmbeddingsPath or ModerationsPath or "/health" or "/v1/models";
                await WriteDetailAsync(context, known ? 405 : 404, context.RequestAborted);
                return;
            }

            server.CountPost(path);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, server.StoppingToken);
            await PostAsync(context, path, body, cts.Token);
        }
        catch (OperationCanceledException)
        {
            context.Abort();
        }
        catch (IOException)
        {
            context.Abort();
        }
    }

    private static async Task<string> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync(cancellationToken);
    }

    private static Dictionary<string, string> CopyHeaders(IHeaderDictionary headers)
    {
        var copy = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in headers)
        {
            copy[name] = values.ToString();
        }

        return copy;
    }

    private async Task GetAsync(HttpContext context, string path)
    {
        var options = server.Options;
        switch (path)
        {
            case "/health":
                context.Response.StatusCode = 200;
                return;
            case "/metrics" when server.Engine is { } engine:
                await engine.WriteMetricsAsync(context, context.RequestAborted);
                return;
            case "/v1/models":
                var bytes = Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("object", "list");
                    w.WriteStartArray("data");
                    w.WriteStartObject();
                    w.WriteString("id", options.ServedModel);
                    w.WriteString("object", "model");
                    w.WriteNumber("created", Now());
                    w.WriteString("owned_by", "vllm");
                    w.WriteString("root", options.ServedModel);
                    w.WriteNull("parent");
                    w.WriteNumber("max_model_len", options.MaxModelLen);
                    w.WriteStartArray("permission");
                    w.WriteEndArray();
                    w.WriteEndObject();
                    w.WriteEndArray();
                    w.WriteEndObject();
                });
                await WriteJsonAsync(context, 200, bytes, context.RequestAborted);
                return;
            case ChatPath or CompletionsPath or EmbeddingsPath or ModerationsPath:
                await WriteDetailAsync(context, 405, context.RequestAborted);
                return;
            default:
                await WriteDetailAsync(context, 404, context.RequestAborted);
                return;
        }
    }

    private async Task PostAsync(HttpContext context, string path, string body, CancellationToken cancellationToken)
    {
        var options = server.Options;
        using var document = TryParse(body);
        var root = document?.RootElement;
        var settings = RequestSettings.From(options, context.Request.Headers, root);

        if (settings.Hang)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        if (settings.Latency > TimeSpan.Zero)
        {
            await Task.Delay(settings.Latency, cancellationToken);
        }

        if (settings.Drop)
        {
            context.Abort();
            return;
        }

        if (path is MessagesPath or CountTokensPath)
        {
            // Anthropic's Messages API (anthropic/ deployments, and vLLM 0.12+ which serves it too), with its own error shape.
            await MessagesAsync(context, path, root, settings, cancellationToken);
            return;
        }

        if (path.StartsWith("/openai/", StringComparison.Ordinal))
        {
            // Azure OpenAI: /openai/deployments/{deployment}/{operation}?api-version=..., the api-key header.
            var mapped = await AzurePathAsync(context, path, root, cancellationToken);
            if (mapped is null)
            {
                return;
            }

            path = mapped;
        }

        var status = settings.Status is >= 400 ? settings.Status : RandomFailure(options);
        if (status is int failure)
        {
            await WriteErrorAsync(context, failure, DefaultMessage(failure), settings.RetryAfterSeconds, cancellationToken);
            return;
        }

        if (path == ModerationsPath && !settings.Guard)
        {
            await WriteDetailAsync(context, 404, cancellationToken);
            return;
        }

        if (path is not (ChatPath or CompletionsPath or EmbeddingsPath or ModerationsPath))
        {
            await WriteDetailAsync(context, 404, cancellationToken);
            return;
        }

        if (root is not { ValueKind: JsonValueKind.Object } request)
        {
            var message = document is null ? "Invalid JSON body" : "The request body must be a JSON object";
            await WriteErrorAsync(context, 400, message, 0, cancellationToken);
            return;
        }

        if (server.Engine is { } simulated && path is ChatPath or CompletionsPath)
        {
            await simulated.HandleAsync(context, path == ChatPath, request, settings.Tokens, cancellationToken);
            return;
        }

        switch (path)
        {
            case ChatPath:
                await ChatAsync(context, request, settings, cancellationToken);
                break;
            case CompletionsPath:
                await CompletionsAsync(context, request, settings, cancellationToken);
                break;
            case EmbeddingsPath:
                await EmbeddingsAsync(context, request, cancellationToken);
                break;
            default:
                await ModerationsAsync(context, request, cancellationToken);
                break;
        }
    }

    private static JsonDocument? TryParse(string body)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static int? RandomFailure(FakeUpstreamOptions options)
    {
        if (options.Rate429 <= 0 && options.Rate500 <= 0 && options.Rate503 <= 0)
        {
            return null;
        }

        var roll = Random.Shared.NextDouble();
        if (roll < options.Rate429)
        {
            return 429;
        }

        if (roll < options.Rate429 + options.Rate500)
        {
            return 500;
        }

        return roll < options.Rate429 + options.Rate500 + options.Rate503 ? 503 : null;
    }

    private async Task ChatAsync(HttpContext context, JsonElement request, RequestSettings settings, CancellationToken cancellationToken)
    {
        var options = server.Options;
        if (!request.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            await WriteErrorAsync(context, 400, "[{'type': 'missing', 'loc': ('body', 'messages'), 'msg': 'Field required'}]", 0, cancellationToken);
            return;
        }

        var promptChars = 0;
        string? lastUser = null;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var text = message.TryGetProperty("content", out var content) ? ContentText(content) : string.Empty;
            promptChars += text.Length;
            if (message.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String && role.GetString() == "user")
            {
                lastUser = text;
            }
        }

        var promptTokens = PromptTokens(promptChars, options);
        var (ok, maxTokens) = await CheckLimitsAsync(context, request, promptTokens, cancellationToken);
        if (!ok)
        {
            return;
        }

        if (await TryToolsOrReasoningAsync(context, request, messages, settings, promptTokens, maxTokens, cancellationToken))
        {
            return;
        }

        var guardText = settings.Guard ? Judge(ConversationText(lastUser ?? string.Empty), options) : null;
        var generation = Generate(settings, options, maxTokens, guardText);
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var created = Now();
        var model = ModelOf(request, options);

        if (!IsTrue(request, "stream") && options.RawChatResponse is { } raw)
        {
            await WriteJsonAsync(context, 200, Encoding.UTF8.GetBytes(raw), cancellationToken);
            return;
        }

        if (!IsTrue(request, "stream"))
        {
            var bytes = Json(w =>
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
                w.WriteNull("reasoning_content");
                w.WriteString("content", generation.Text);
                w.WriteStartArray("tool_calls");
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteNull("logprobs");
                w.WriteString("finish_reason", generation.FinishReason);
                w.WriteNull("stop_reason");
                w.WriteEndObject();
                w.WriteEndArray();
                WriteUsage(w, promptTokens, generation.Tokens, details: true);
                w.WriteNull("prompt_logprobs");
                w.WriteNull("kv_transfer_params");
                w.WriteEndObject();
            });
            await WriteJsonAsync(context, 200, bytes, cancellationToken);
            return;
        }

        var events = new List<SseEvent>(generation.Pieces.Count + 2)
        {
            new(ChatChunk(id, created, model, role: "assistant", content: string.Empty, finishReason: null), Delayed: false),
        };
        for (var i = 0; i < generation.Pieces.Count; i++)
        {
            var finish = i == generation.Pieces.Count - 1 ? generation.FinishReason : null;
            events.Add(new SseEvent(ChatChunk(id, created, model, role: null, generation.Pieces[i], finish), Delayed: true));
        }

        if (generation.Pieces.Count == 0)
        {
            events.Add(new SseEvent(ChatChunk(id, created, model, role: null, string.Empty, generation.FinishReason), Delayed: true));
        }

        if (IncludeUsage(request))
        {
            events.Add(new SseEvent(UsageChunk(id, "chat.completion.chunk", created, model, promptTokens, generation.Tokens), Delayed: false));
        }

        await StreamAsync(context, events, settings, cancellationToken);
    }

    private async Task CompletionsAsync(HttpContext context, JsonElement request, RequestSettings settings, CancellationToken cancellationToken)
    {
        var options = server.Options;
        var prompts = request.TryGetProperty("prompt", out var prompt) ? ReadInputs(prompt) : null;
        if (prompts is null || prompts.Count == 0)
        {
            await WriteErrorAsync(context, 400, "Either prompt or prompt_embeds must be provided and non-empty.", 0, cancellationToken);
            return;
        }

        var tokens = prompts.Select(p => p.Tokens ?? PromptTokens(p.Text.Length, options)).ToList();
        int? maxTokens = null;
        foreach (var promptTokens in tokens)
        {
            var (ok, checkedMax) = await CheckLimitsAsync(context, request, promptTokens, cancellationToken);
            if (!ok)
            {
                return;
            }

            maxTokens = checkedMax;
        }

        var generations = prompts
            .Select(p => Generate(settings, options, maxTokens, settings.Guard ? Judge(ConversationText(p.Text), options) : null))
            .ToList();
        var promptTotal = tokens.Sum();
        var completionTotal = generations.Sum(g => g.Tokens);
        var id = "cmpl-" + Guid.NewGuid().ToString("N");
        var created = Now();
        var model = ModelOf(request, options);

        if (!IsTrue(request, "stream"))
        {
            var bytes = Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("id", id);
                w.WriteString("object", "text_completion");
                w.WriteNumber("created", created);
                w.WriteString("model", model);
                w.WriteStartArray("choices");
                for (var i = 0; i < generations.Count; i++)
                {
                    w.WriteStartObject();
                    w.WriteNumber("index", i);
                    w.WriteString("text", generations[i].Text);
                    w.WriteNull("logprobs");
                    w.WriteString("finish_reason", generations[i].FinishReason);
                    w.WriteNull("stop_reason");
                    w.WriteNull("prompt_logprobs");
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                WriteUsage(w, promptTotal, completionTotal, details: true);
                w.WriteNull("kv_transfer_params");
                w.WriteEndObject();
            });
            await WriteJsonAsync(context, 200, bytes, cancellationToken);
            return;
        }

        var events = new List<SseEvent>();
        for (var p = 0; p < generations.Count; p++)
        {
            var pieces = generations[p].Pieces.Count > 0 ? generations[p].Pieces : [string.Empty];
            for (var i = 0; i < pieces.Count; i++)
            {
                var finish = i == pieces.Count - 1 ? generations[p].FinishReason : null;
                events.Add(new SseEvent(TextChunk(id, created, model, p, pieces[i], finish), Delayed: events.Count > 0));
            }
        }

        if (IncludeUsage(request))
        {
            events.Add(new SseEvent(UsageChunk(id, "text_completion", created, model, promptTotal, completionTotal), Delayed: false));
        }

        await StreamAsync(context, events, settings, cancellationToken);
    }

    private async Task EmbeddingsAsync(HttpContext context, JsonElement request, CancellationToken cancellationToken)
    {
        var options = server.Options;
        var inputs = request.TryGetProperty("input", out var input) ? ReadInputs(input) : null;
        if (inputs is null || inputs.Count == 0)
        {
            await WriteErrorAsync(context, 400, "[{'type': 'missing', 'loc': ('body', 'input'), 'msg': 'Field required'}]", 0, cancellationToken);
            return;
        }

        var tokens = inputs.Select(i => i.Tokens ?? PromptTokens(i.Text.Length, options)).ToList();
        var tooLong = tokens.FirstOrDefault(t => t > options.MaxModelLen);
        if (tooLong > 0)
        {
            var message = $"This model's maximum context length is {options.MaxModelLen} tokens. However, you requested {tooLong} tokens in the input for embedding generation. Please reduce the length of the input.";
            await WriteErrorAsync(context, 400, message, 0, cancellationToken);
            return;
        }

        var base64 = request.TryGetProperty("encoding_format", out var format) && format.ValueKind == JsonValueKind.String && format.GetString() == "base64";
        var dimensions = Math.Max(1, options.EmbeddingDimensions);
        var promptTotal = tokens.Sum();
        var model = ModelOf(request, options);
        var bytes = Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("id", "embd-" + Guid.NewGuid().ToString("N"));
            w.WriteString("object", "list");
            w.WriteNumber("created", Now());
            w.WriteString("model", model);
            w.WriteStartArray("data");
            for (var i = 0; i < inputs.Count; i++)
            {
                var vector = options.EmbeddingMode == FakeEmbeddingMode.BagOfWords
                    ? BagOfWordsEmbedding.Embed(inputs[i].Text, dimensions)
                    : Embed(inputs[i].Text, dimensions);
                w.WriteStartObject();
                w.WriteNumber("index", i);
                w.WriteString("object", "embedding");
                if (base64)
                {
                    var raw = new byte[vector.Length * 4];
                    for (var d = 0; d < vector.Length; d++)
                    {
                        BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(d * 4), vector[d]);
                    }

                    w.WriteString("embedding", Convert.ToBase64String(raw));
                }
                else
                {
                    w.WriteStartArray("embedding");
                    foreach (var value in vector)
                    {
                        w.WriteNumberValue(value);
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            WriteUsage(w, promptTotal, 0, details: true);
            w.WriteEndObject();
        });
        await WriteJsonAsync(context, 200, bytes, cancellationToken);
    }

    private async Task ModerationsAsync(HttpContext context, JsonElement request, CancellationToken cancellationToken)
    {
        var options = server.Options;
        var inputs = request.TryGetProperty("input", out var input) ? ReadInputs(input) : null;
        if (inputs is null || inputs.Count == 0)
        {
            await WriteErrorAsync(context, 400, "[{'type': 'missing', 'loc': ('body', 'input'), 'msg': 'Field required'}]", 0, cancellationToken);
            return;
        }

        if (options.GuardMalformed)
        {
            await WriteJsonAsync(context, 200, "{\"id\":\"modr-x\",\"unexpected\":true}"u8.ToArray(), cancellationToken);
            return;
        }

        var model = request.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "text-moderation-latest";
        var category = OpenAiCategory(options.GuardCategory);
        var bytes = Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("id", "modr-" + Guid.NewGuid().ToString("N"));
            w.WriteString("model", model);
            w.WriteStartArray("results");
            foreach (var item in inputs)
            {
                var flagged = IsUnsafe(item.Text, options);
                w.WriteStartObject();
                w.WriteBoolean("flagged", flagged);
                w.WriteStartObject("categories");
                foreach (var name in ModerationCategories)
                {
                    w.WriteBoolean(name, flagged && name == category);
                }

                w.WriteEndObject();
                w.WriteStartObject("category_scores");
                foreach (var name in ModerationCategories)
                {
                    w.WritePropertyName(name);
                    w.WriteRawValue(flagged && name == category ? "1.0" : "0.0", skipInputValidation: true);
                }

                w.WriteEndObject();
                w.WriteStartObject("category_applied_input_types");
                foreach (var name in ModerationCategories)
                {
                    w.WriteStartArray(name);
                    w.WriteStringValue("text");
                    w.WriteEndArray();
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
        await WriteJsonAsync(context, 200, bytes, cancellationToken);
    }

    /// <summary>Validates max_tokens and the context length; not ok when an error was written, else the requested max (maybe null).</summary>
    private async Task<(bool Ok, int? MaxTokens)> CheckLimitsAsync(HttpContext context, JsonElement request, int promptTokens, CancellationToken cancellationToken)
    {
        var options = server.Options;
        int? maxTokens = null;
        foreach (var name in (string[])["max_tokens", "max_completion_tokens"])
        {
            if (!request.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var parsed))
            {
                await WriteErrorAsync(context, 400, $"{name} must be an integer", 0, cancellationToken);
                return (false, null);
            }

            if (parsed < 1)
            {
                await WriteErrorAsync(context, 400, $"max_tokens must be at least 1, got {parsed}.", 0, cancellationToken);
                return (false, null);
            }

            maxTokens = parsed;
            break;
        }

        var requested = maxTokens ?? 0;
        var total = (long)promptTokens + requested;
        if (total > options.MaxModelLen)
        {
            var message = $"This model's maximum context length is {options.MaxModelLen} tokens. However, you requested {total} tokens ({promptTokens} in the messages, {requested} in the completion). Please reduce the length of the messages or completion.";
            await WriteErrorAsync(context, 400, message, 0, cancellationToken);
            return (false, null);
        }

        return (true, maxTokens);
    }

    private async Task StreamAsync(HttpContext context, List<SseEvent> events, RequestSettings settings, CancellationToken cancellationToken)
    {
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        await response.StartAsync(cancellationToken);
        if (settings.DropAfterChunks is <= 0)
        {
            await response.Body.FlushAsync(cancellationToken);
            await AbortAfterSendAsync(context);
            return;
        }

        for (var i = 0; i < events.Count; i++)
        {
            if (events[i].Delayed && settings.ChunkDelay > TimeSpan.Zero)
            {
                await Task.Delay(settings.ChunkDelay, cancellationToken);
            }

            await response.Body.WriteAsync(Frame(events[i].Json), cancellationToken);
            await response.Body.FlushAsync(cancellationToken);
            server.OnChunkSent(i);
            if (settings.DropAfterChunks is int drop && i + 1 >= drop)
            {
                await AbortAfterSendAsync(context);
                return;
            }
        }

        await response.Body.WriteAsync("data: [DONE]\n\n"u8.ToArray(), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// A flush hands the bytes to the transport, not to the socket: give it a moment to send them, so the client
    /// really sees the chunks before the connection goes down.
    /// </summary>
    private static async Task AbortAfterSendAsync(HttpContext context)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None);
        context.Abort();
    }

    private static byte[] Frame(byte[] json)
    {
        var frame = new byte[json.Length + 8];
        "data: "u8.CopyTo(frame);
        json.CopyTo(frame, 6);
        frame[^2] = (byte)'\n';
        frame[^1] = (byte)'\n';
        return frame;
    }

    private static byte[] ChatChunk(string id, long created, string model, string? role, string content, string? finishReason) => Json(w =>
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
        if (role is not null)
        {
            w.WriteString("role", role);
        }

        w.WriteString("content", content);
        w.WriteEndObject();
        w.WriteNull("logprobs");
        w.WriteString("finish_reason", finishReason);
        if (finishReason is not null)
        {
            w.WriteNull("stop_reason");
        }

        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static byte[] TextChunk(string id, long created, string model, int index, string text, string? finishReason) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", "text_completion");
        w.WriteNumber("created", created);
        w.WriteString("model", model);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", index);
        w.WriteString("text", text);
        w.WriteNull("logprobs");
        w.WriteString("finish_reason", finishReason);
        w.WriteNull("stop_reason");
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static byte[] UsageChunk(string id, string objectName, long created, string model, int promptTokens, int completionTokens) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", objectName);
        w.WriteNumber("created", created);
        w.WriteString("model", model);
        w.WriteStartArray("choices");
        w.WriteEndArray();
        WriteUsage(w, promptTokens, completionTokens, details: false);
        w.WriteEndObject();
    });

    private static void WriteUsage(Utf8JsonWriter w, int promptTokens, int completionTokens, bool details)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", promptTokens);
        w.WriteNumber("total_tokens", promptTokens + completionTokens);
        w.WriteNumber("completion_tokens", completionTokens);
        if (details)
        {
            w.WriteNull("prompt_tokens_details");
        }

        w.WriteEndObject();
    }

    private async Task WriteErrorAsync(HttpContext context, int status, string message, int retryAfterSeconds, CancellationToken cancellationToken)
    {
        var flat = server.Options.FlatErrors;
        var type = ErrorType(status);
        var bytes = Json(w =>
        {
            w.WriteStartObject();
            if (flat)
            {
                w.WriteString("object", "error");
            }
            else
            {
                w.WriteStartObject("error");
            }

            w.WriteString("message", message);
            w.WriteString("type", type);
            w.WriteNull("param");
            w.WriteNumber("code", status);
            if (!flat)
            {
                w.WriteEndObject();
            }

            w.WriteEndObject();
        });
        if (retryAfterSeconds > 0 && status is 429 or 503)
        {
            context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        }

        await WriteJsonAsync(context, status, bytes, cancellationToken);
    }

    private static Task WriteDetailAsync(HttpContext context, int status, CancellationToken cancellationToken)
    {
        var detail = status == 405 ? "Method Not Allowed" : "Not Found";
        return WriteJsonAsync(context, status, Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("detail", detail);
            w.WriteEndObject();
        }), cancellationToken);
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, byte[] body, CancellationToken cancellationToken)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, cancellationToken);
    }

    private static string ErrorType(int status) => status switch
    {
        400 => "BadRequestError",
        401 => "AuthenticationError",
        403 => "PermissionDeniedError",
        404 => "NotFoundError",
        409 => "ConflictError",
        422 => "UnprocessableEntityError",
        429 => "RateLimitError",
        501 => "NotImplementedError",
        503 => "ServiceUnavailableError",
        >= 500 => "InternalServerError",
        _ => "BadRequestError",
    };

    private static string DefaultMessage(int status) => status switch
    {
        400 => "Bad request",
        404 => "Not found",
        429 => "Too many requests",
        500 => "Internal server error",
        503 => "Service unavailable",
        _ => ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error",
    };

    private static Generation Generate(RequestSettings settings, FakeUpstreamOptions options, int? maxTokens, string? guardAnswer)
    {
        if (guardAnswer is not null)
        {
            return new Generation(SplitPieces(guardAnswer), "stop");
        }

        if (settings.Content is { } content)
        {
            var pieces = SplitPieces(content);
            if (maxTokens is int max && pieces.Count >= max)
            {
                return new Generation(pieces.Take(max).ToList(), "length");
            }

            return new Generation(pieces, "stop");
        }

        var natural = Math.Max(0, settings.Tokens ?? maxTokens ?? options.DefaultCompletionTokens);
        var count = maxTokens is int limit ? Math.Min(natural, limit) : natural;
        var words = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            words.Add(i == 0 ? Words[0] : " " + Words[i % Words.Length]);
        }

        return new Generation(words, maxTokens is int m && count >= m ? "length" : "stop");
    }

    /// <summary>About four characters a token, never splitting a surrogate pair.</summary>
    private static List<string> SplitPieces(string text)
    {
        var pieces = new List<string>((text.Length / 4) + 1);
        var start = 0;
        while (start < text.Length)
        {
            var length = Math.Min(4, text.Length - start);
            if (char.IsHighSurrogate(text[start + length - 1]) && start + length < text.Length)
            {
                length++;
            }

            pieces.Add(text.Substring(start, length));
            start += length;
        }

        return pieces;
    }

    private static int PromptTokens(int chars, FakeUpstreamOptions options)
    {
        var perToken = options.CharsPerToken > 0 ? options.CharsPerToken : 4.0;
        return Math.Max(1, (int)Math.Ceiling(chars / perToken));
    }

    private static string ContentText(JsonElement content)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return content.GetString() ?? string.Empty;
            case JsonValueKind.Array:
                var builder = new StringBuilder();
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.String)
                    {
                        builder.Append(part.GetString());
                    }
                    else if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                    {
                        builder.Append(text.GetString());
                    }
                }

                return builder.ToString();
            default:
                return string.Empty;
        }
    }

    /// <summary>Prompts or inputs: a string, strings, token ids, or lists of token ids. Null when the shape is wrong.</summary>
    private static List<Input>? ReadInputs(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return [new Input(value.GetString() ?? string.Empty, null)];
            case JsonValueKind.Array:
                var items = value.EnumerateArray().ToList();
                if (items.Count > 0 && items.All(i => i.ValueKind == JsonValueKind.Number))
                {
                    return [TokenInput(items)];
                }

                var inputs = new List<Input>(items.Count);
                foreach (var item in items)
                {
                    if (item.ValueKind == JsonValueKind.String)
                    {
                        inputs.Add(new Input(item.GetString() ?? string.Empty, null));
                    }
                    else if (item.ValueKind == JsonValueKind.Array)
                    {
                        inputs.Add(TokenInput(item.EnumerateArray().ToList()));
                    }
                    else
                    {
                        return null;
                    }
                }

                return inputs;
            default:
                return null;
        }
    }

    private static Input TokenInput(List<JsonElement> ids) =>
        new(string.Join(' ', ids.Select(i => i.GetRawText())), Math.Max(1, ids.Count));

    private static string ConversationText(string text)
    {
        const string Begin = "<BEGIN CONVERSATION>";
        const string End = "<END CONVERSATION>";
        var start = text.IndexOf(Begin, StringComparison.Ordinal);
        if (start < 0)
        {
            return text;
        }

        start += Begin.Length;
        var end = text.IndexOf(End, start, StringComparison.Ordinal);
        return end < 0 ? text[start..] : text[start..end];
    }

    private static bool IsUnsafe(string text, FakeUpstreamOptions options) =>
        Regex.IsMatch(text, options.GuardPattern, RegexOptions.None, TimeSpan.FromSeconds(1));

    private static string Judge(string text, FakeUpstreamOptions options) =>
        options.GuardMalformed ? "I cannot assess that." : IsUnsafe(text, options) ? "unsafe\n" + options.GuardCategory : "safe";

    private static string OpenAiCategory(string guardCategory) => guardCategory.Trim().ToUpperInvariant() switch
    {
        "S10" => "hate",
        "S11" => "self-harm",
        "S12" => "sexual",
        "S4" => "sexual/minors",
        _ => "violence",
    };

    /// <summary>Deterministic unit vector from the text: FNV-1a seed, SplitMix64 stream.</summary>
    private static float[] Embed(string text, int dimensions)
    {
        var state = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            state = (state ^ b) * 1099511628211UL;
        }

        var vector = new float[dimensions];
        var norm = 0.0;
        for (var i = 0; i < dimensions; i++)
        {
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            var value = ((z >> 11) * (1.0 / (1UL << 53)) * 2) - 1;
            vector[i] = (float)value;
            norm += value * value;
        }

        var scale = norm > 0 ? 1 / Math.Sqrt(norm) : 1;
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = (float)(vector[i] * scale);
        }

        return vector;
    }

    private static string ModelOf(JsonElement request, FakeUpstreamOptions options) =>
        request.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String ? model.GetString()! : options.ServedModel;

    private static bool IsTrue(JsonElement request, string name) =>
        request.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    private static bool IncludeUsage(JsonElement request) =>
        request.TryGetProperty("stream_options", out var streamOptions)
        && streamOptions.ValueKind == JsonValueKind.Object
        && IsTrue(streamOptions, "include_usage");

    private static long Now() => TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private sealed record Generation(List<string> Pieces, string FinishReason)
    {
        public string Text => string.Concat(Pieces);

        public int Tokens => Pieces.Count;
    }

    private sealed record Input(string Text, int? Tokens);

    private sealed record SseEvent(byte[] Json, bool Delayed);
}
