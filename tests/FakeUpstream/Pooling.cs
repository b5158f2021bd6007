using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace FakeUpstream;

/// <summary>
/// vLLM's pooling-model, tokenizer and speech endpoints, in vLLM's shapes (vllm/entrypoints/openai/protocol.py): rerank
/// (at /rerank, /v1/rerank, /v2/rerank), /score and /v1/score, /tokenize, /detokenize, /pooling, /classify, and the
/// multipart /v1/audio/transcriptions and /v1/audio/translations. Answers are deterministic (a document's relevance is
/// the share of the query's words it contains) and take the same fault settings as the other endpoints. Audio is read
/// as a stream: the file is counted, never held, so a large upload costs the test process no memory here.
/// </summary>
internal sealed partial class FakeHandler
{
    private static readonly HashSet<string> PoolingPaths = new(StringComparer.Ordinal)
    {
        "/rerank", "/v1/rerank", "/v2/rerank", "/score", "/v1/score", "/tokenize", "/detokenize", "/pooling", "/classify",
        "/v1/audio/transcriptions", "/v1/audio/translations",
    };

    /// <summary>Answers the request when it is one of these endpoints; false for every other path.</summary>
    private async Task<bool> TryHandlePoolingAsync(HttpContext context, string path)
    {
        if (!PoolingPaths.Contains(path) || !HttpMethods.IsPost(context.Request.Method))
        {
            return false;
        }

        server.CountPost(path);
        foreach (var (name, value) in server.Options.ResponseHeaders)
        {
            context.Response.Headers[name] = value;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, server.StoppingToken);
        if (path.StartsWith("/v1/audio/", StringComparison.Ordinal))
        {
            await AudioAsync(context, path, translate: path.EndsWith("translations", StringComparison.Ordinal), cts.Token);
            return true;
        }

        var body = await ReadBodyAsync(context.Request, cts.Token);
        server.Record(new RecordedRequest(context.Request.Method, path, CopyHeaders(context.Request.Headers), body));
        using var document = TryParse(body);
        var root = document?.RootElement;
        if (!await AdmitAsync(context, RequestSettings.From(server.Options, context.Request.Headers, root), cts.Token))
        {
            return true;
        }

        if (root is not { ValueKind: JsonValueKind.Object } request)
        {
            await WriteErrorAsync(context, 400, document is null ? "JSON decode error" : "Input should be a valid dictionary", 0, cts.Token);
            return true;
        }

        var model = ModelOf(request, server.Options);
        var answer = path switch
        {
            "/score" or "/v1/score" => Score(request, model),
            "/tokenize" => Tokenize(request),
            "/detokenize" => Detokenize(request),
            "/pooling" => Pool(request, model, classify: false),
            "/classify" => Pool(request, model, classify: true),
            _ => Rerank(request, model),
        };
        if (answer.Error is { } error)
        {
            await WriteErrorAsync(context, 400, error, 0, cts.Token);
            return true;
        }

        await WriteJsonAsync(context, 200, answer.Json!, cts.Token);
        return true;
    }

    // Latency, a scripted status and dropped connections, as for chat.
    private async Task<bool> AdmitAsync(HttpContext context, RequestSettings settings, CancellationToken cancellationToken)
    {
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
            return false;
        }

        if ((settings.Status is >= 400 ? settings.Status : RandomFailure(server.Options)) is int failure)
        {
            await WriteErrorAsync(context, failure, DefaultMessage(failure), settings.RetryAfterSeconds, cancellationToken);
            return false;
        }

        return true;
    }

    private Answer Rerank(JsonElement request, string model)
    {
        if (!request.TryGetProperty("query", out var queryValue) || queryValue.ValueKind != JsonValueKind.String)
        {
            return Answer.Fail("[{'type': 'missing', 'loc': ('body', 'query'), 'msg': 'Field required'}]");
        }

        if (!request.TryGetProperty("documents", out var documentsValue) || Texts(documentsValue) is not { } documents)
        {
            return Answer.Fail("[{'type': 'missing', 'loc': ('body', 'documents'), 'msg': 'Field required'}]");
        }

        var query = queryValue.GetString()!;
        var topN = request.TryGetProperty("top_n", out var n) && n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var top) && top > 0
            ? Math.Min(top, documents.Count) : documents.Count;
        var returnDocuments = !request.TryGetProperty("return_documents", out var rd) || rd.ValueKind != JsonValueKind.False;
        var ranked = documents.Select((text, index) => (Index: index, Score: Relevance(query, text)))
            .OrderByDescending(r => r.Score).ThenBy(r => r.Index).Take(topN).ToList();
        var tokens = documents.Sum(d => PromptTokens(query.Length + d.Length, server.Options));
        return Answer.Ok(Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("id", "rerank-" + Guid.NewGuid().ToString("N"));
            w.WriteString("model", model);
            // vLLM's RerankResponse: usage (total_tokens only) before the results.
            w.WriteStartObject("usage");
            w.WriteNumber("total_tokens", tokens);
            w.WriteEndObject();
            w.WriteStartArray("results");
            foreach (var (index, score) in ranked)
            {
                w.WriteStartObject();
                w.WriteNumber("index", index);
                if (returnDocuments)
                {
                    w.WriteStartObject("document");
                    w.WriteString("text", documents[index]);
                    w.WriteEndObject();
                }

                w.WriteNumber("relevance_score", score);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }));
    }

    private Answer Score(JsonElement request, string model)
    {
        var left = request.TryGetProperty("text_1", out var a) ? Texts(a) : null;
        var right = request.TryGetProperty("text_2", out var b) ? Texts(b) : null;
        if (left is not { Count: > 0 } || right is not { Count: > 0 })
        {
            return Answer.Fail($"[{{'type': 'missing', 'loc': ('body', '{(left is { Count: > 0 } ? "text_2" : "text_1")}'), 'msg': 'Field required'}}]");
        }

        if (left.Count > 1 && left.Count != right.Count)
        {
            return Answer.Fail("text_1 and text_2 must have the same length, or text_1 must be a single text");
        }

        var scores = right.Select((text, i) => Relevance(left.Count == 1 ? left[0] : left[i], text)).ToList();
        var tokens = right.Select((text, i) => PromptTokens((left.Count == 1 ? left[0] : left[i]).Length + text.Length, server.Options)).Sum();
        return Answer.Ok(Json(w =>
        {
            WriteListHeader(w, "score-", model);
            w.WriteStartArray("data");
            for (var i = 0; i < scores.Count; i++)
            {
                w.WriteStartObject();
                w.WriteNumber("index", i);
                w.WriteString("object", "score");
                w.WriteNumber("score", scores[i]);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            WriteUsage(w, tokens, 0, details: true);
            w.WriteEndObject();
        }));
    }

    // Token ids are the prompt's characters in groups of CharsPerToken (rounded), so /detokenize can give the text back.
    private Answer Tokenize(JsonElement request)
    {
        string text;
        if (request.TryGetProperty("prompt", out var prompt) && prompt.ValueKind == JsonValueKind.String)
        {
            text = prompt.GetString()!;
        }
        else if (request.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            text = string.Concat(messages.EnumerateArray()
                .Where(m => m.ValueKind == JsonValueKind.Object && m.TryGetProperty("content", out _))
                .Select(m => ContentText(m.GetProperty("content"))));
        }
        else
        {
            return Answer.Fail("Either prompt or messages must be given");
        }

        var ids = new List<int>();
        foreach (var rune in text.EnumerateRunes())
        {
            ids.Add(rune.Value);
        }

        return Answer.Ok(Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("count", ids.Count);
            w.WriteNumber("max_model_len", server.Options.MaxModelLen);
            w.WriteStartArray("tokens");
            foreach (var id in ids)
            {
                w.WriteNumberValue(id);
            }

            w.WriteEndArray();
            w.WriteNull("token_strs");
            w.WriteEndObject();
        }));
    }

    private static Answer Detokenize(JsonElement request)
    {
        if (!request.TryGetProperty("tokens", out var tokens) || tokens.ValueKind != JsonValueKind.Array)
        {
            return Answer.Fail("[{'type': 'missing', 'loc': ('body', 'tokens'), 'msg': 'Field required'}]");
        }

        var text = new StringBuilder();
        foreach (var token in tokens.EnumerateArray())
        {
            if (token.ValueKind != JsonValueKind.Number || !token.TryGetInt32(out var id) || !Rune.IsValid(id))
            {
                return Answer.Fail("tokens: Input should be a list of valid token ids");
            }

            text.Append(new Rune(id).ToString());
        }

        return Answer.Ok(Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("prompt", text.ToString());
            w.WriteEndObject();
        }));
    }

    private Answer Pool(JsonElement request, string model, bool classify)
    {
        var inputs = request.TryGetProperty("input", out var input) ? Texts(input) : null;
        if (inputs is not { Count: > 0 })
        {
            return Answer.Fail("[{'type': 'missing', 'loc': ('body', 'input'), 'msg': 'Field required'}]");
        }

        var tokens = inputs.Sum(text => PromptTokens(text.Length, server.Options));
        return Answer.Ok(Json(w =>
        {
            WriteListHeader(w, classify ? "classify-" : "pool-", model);
            w.WriteStartArray("data");
            for (var i = 0; i < inputs.Count; i++)
            {
                w.WriteStartObject();
                w.WriteNumber("index", i);
                if (classify)
                {
                    // "positive" when the text has more letters than other characters: stable and easy to predict.
                    var positive = Math.Round(inputs[i].Count(char.IsLetter) / (double)Math.Max(1, inputs[i].Length), 3);
                    w.WriteString("label", positive >= 0.5 ? "positive" : "negative");
                    w.WriteStartArray("probs");
                    w.WriteNumberValue(Math.Round(1 - positive, 3));
                    w.WriteNumberValue(positive);
                    w.WriteEndArray();
                    w.WriteNumber("num_classes", 2);
                }
                else
                {
                    w.WriteString("object", "pooling");
                    w.WriteStartArray("data");
                    foreach (var value in Embed(inputs[i], server.Options.EmbeddingDimensions))
                    {
                        w.WriteNumberValue(value);
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            WriteUsage(w, tokens, 0, details: true);
            w.WriteEndObject();
        }));
    }

    private async Task AudioAsync(HttpContext context, string path, bool translate, CancellationToken cancellationToken)
    {
        var headers = CopyHeaders(context.Request.Headers);
        var settings = RequestSettings.From(server.Options, context.Request.Headers, null);
        var form = await ReadFormAsync(context.Request, cancellationToken);
        server.Record(new RecordedRequest(context.Request.Method, path, headers, form.Describe()));
        if (form.Error is { } invalid)
        {
            await WriteErrorAsync(context, 400, invalid, 0, cancellationToken);
            return;
        }

        if (!await AdmitAsync(context, settings, cancellationToken))
        {
            return;
        }

        if (form.FileBytes < 0)
        {
            await WriteErrorAsync(context, 400, "[{'type': 'missing', 'loc': ('body', 'file'), 'msg': 'Field required'}]", 0, cancellationToken);
            return;
        }

        var format = form.Fields.GetValueOrDefault("response_format") is { Length: > 0 } f ? f : "json";
        var text = $"{(translate ? "translated" : "transcribed")} {form.FileBytes} bytes";
        var seconds = form.Seconds ?? form.FileBytes / 32000.0;
        var end = TimeSpan.FromSeconds(Math.Max(seconds, 0.001));
        switch (format)
        {
            case "text":
                await WriteTextAsync(context, text + "\n", cancellationToken);
                break;
            case "srt":
                await WriteTextAsync(context, $"1\n00:00:00,000 --> {end.ToString(@"hh\:mm\:ss\,fff", CultureInfo.InvariantCulture)}\n{text}\n\n", cancellationToken);
                break;
            case "vtt":
                await WriteTextAsync(context, $"WEBVTT\n\n00:00:00.000 --> {end.ToString(@"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture)}\n{text}\n\n", cancellationToken);
                break;
            case "verbose_json":
                await WriteJsonAsync(context, 200, Json(w =>
                {
                    w.WriteStartObject();
                    // vLLM's TranscriptionResponseVerbose sends the duration as a string, first.
                    w.WriteString("duration", seconds.ToString("0.###", CultureInfo.InvariantCulture));
                    w.WriteString("language", translate ? "en" : form.Fields.GetValueOrDefault("language") ?? "en");
                    w.WriteString("text", text);
                    w.WriteStartArray("segments");
                    w.WriteEndArray();
                    w.WriteEndObject();
                }), cancellationToken);
                break;
            case "json":
                await WriteJsonAsync(context, 200, Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("text", text);
                    w.WriteStartObject("usage");
                    w.WriteString("type", "duration");
                    w.WriteNumber("seconds", (int)Math.Ceiling(seconds));
                    w.WriteEndObject();
                    w.WriteEndObject();
                }), cancellationToken);
                break;
            default:
                await WriteErrorAsync(context, 400, $"Unsupported response_format: {format}", 0, cancellationToken);
                break;
        }
    }

    private static async Task<AudioForm> ReadFormAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var form = new AudioForm();
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var media) || !media.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(media.Boundary) is not { Length: > 0 } boundary)
        {
            form.Error = "Expected multipart/form-data";
            return form;
        }

        var reader = new MultipartReader(boundary.ToString(), request.Body) { BodyLengthLimit = null };
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    continue;
                }

                var name = HeaderUtilities.RemoveQuotes(disposition.Name).ToString();
                if (disposition.IsFileDisposition() && name == "file" && form.FileBytes < 0)
                {
                    form.FileName = HeaderUtilities.RemoveQuotes(disposition.FileName).ToString();
                    form.FileBytes = 0;
                    var head = new byte[64];
                    var headLength = 0;
                    int read;
                    while ((read = await section.Body.ReadAsync(chunk, cancellationToken)) > 0)
                    {
                        var take = Math.Min(read, head.Length - headLength);
                        chunk.AsSpan(0, take).CopyTo(head.AsSpan(headLength));
                        headLength += take;
                        form.FileBytes += read;
                    }

                    form.Seconds = WavSeconds(head.AsSpan(0, headLength));
                }
                else
                {
                    using var text = new StreamReader(section.Body, Encoding.UTF8);
                    form.Fields[name] = await text.ReadToEndAsync(cancellationToken);
                }
            }
        }
        catch (InvalidDataException ex)
        {
            form.Error = "Invalid multipart body: " + ex.Message;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return form;
    }

    // A canonical 44-byte PCM header: data size over byte rate.
    private static double? WavSeconds(ReadOnlySpan<byte> head)
    {
        if (head.Length < 44 || !head[..4].SequenceEqual("RIFF"u8) || !head[36..40].SequenceEqual("data"u8))
        {
            return null;
        }

        var byteRate = BinaryPrimitives.ReadUInt32LittleEndian(head[28..32]);
        var dataBytes = BinaryPrimitives.ReadUInt32LittleEndian(head[40..44]);
        return byteRate == 0 ? null : dataBytes / (double)byteRate;
    }

    private static async Task WriteTextAsync(HttpContext context, string text, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, cancellationToken);
    }

    private static void WriteListHeader(Utf8JsonWriter w, string idPrefix, string model)
    {
        w.WriteStartObject();
        w.WriteString("id", idPrefix + Guid.NewGuid().ToString("N"));
        w.WriteString("object", "list");
        w.WriteNumber("created", Now());
        w.WriteString("model", model);
    }

    /// <summary>A string, or a list of strings or {"text": ...} objects (Cohere's document shape).</summary>
    private static List<string>? Texts(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return [value.GetString()!];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var texts = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                texts.Add(item.GetString()!);
            }
            else if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
            {
                texts.Add(text.GetString()!);
            }
            else
            {
                return null;
            }
        }

        return texts;
    }

    /// <summary>The share of the query's distinct words (case-insensitive) that the document contains, rounded to 4 places.</summary>
    private static double Relevance(string query, string document)
    {
        var wanted = WordSet(query);
        if (wanted.Count == 0)
        {
            return 0;
        }

        var present = WordSet(document);
        return Math.Round(wanted.Count(present.Contains) / (double)wanted.Count, 4);
    }

    private static HashSet<string> WordSet(string text) =>
        new(text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Select(word => new string([.. word.Where(char.IsLetterOrDigit)]).ToLowerInvariant())
            .Where(word => word.Length > 0), StringComparer.Ordinal);

    private sealed record Answer(byte[]? Json, string? Error)
    {
        public static Answer Ok(byte[] json) => new(json, null);

        public static Answer Fail(string error) => new(null, error);
    }

    /// <summary>What the fake saw of an upload: its fields, and the file's name and size only.</summary>
    private sealed class AudioForm
    {
        public Dictionary<string, string> Fields { get; } = new(StringComparer.Ordinal);

        public string? FileName { get; set; }

        /// <summary>-1 when there was no file part.</summary>
        public long FileBytes { get; set; } = -1;

        public double? Seconds { get; set; }

        public string? Error { get; set; }

        /// <summary>The recorded "body": a JSON object of the fields plus file_name and file_bytes.</summary>
        public string Describe()
        {
            var buffer = new ArrayBufferWriter<byte>();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                foreach (var (name, value) in Fields)
                {
                    w.WriteString(name, value);
                }

                w.WriteString("file_name", FileName);
                w.WriteNumber("file_bytes", FileBytes);
                w.WriteEndObject();
            }

            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
    }
}
