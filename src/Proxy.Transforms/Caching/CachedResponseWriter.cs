using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Proxy.Transforms.Streaming;

namespace Proxy.Transforms.Caching;

/// <summary>
/// Answers a request from a stored answer: as it was stored for a non-streamed request, or replayed as SSE chunks ending
/// in <c>[DONE]</c> for a streamed one (the content in one chunk per choice, then the finish reason, then usage when the
/// client asked for it), as LiteLLM replays cached streams.
/// </summary>
internal static class CachedResponseWriter
{
    public const string CacheKeyHeader = "x-litellm-cache-key";

    /// <summary>False when the stored answer cannot be replayed (nothing has been written then).</summary>
    /// <param name="errors">For guardrails that refuse the replayed answer.</param>
    public static async ValueTask<bool> TryWriteAsync(
        HttpContext context, GatewayRequestContext request, ReadOnlyMemory<byte> stored, string key, TimeProvider time, IOpenAiErrorWriter errors)
    {
        var response = context.Response;
        var judged = IsJudged(request);
        if (!request.Stream || request.Endpoint == OpenAiEndpoint.Embeddings)
        {
            WriteHeaders(response, request, key, time);
            response.ContentType = "application/json";
            if (judged)
            {
                await ReplayThroughTapsAsync(context, request, stored, stream: false, errors);
                return true;
            }

            response.ContentLength = stored.Length;
            await response.BodyWriter.WriteAsync(stored, context.RequestAborted);
            return true;
        }

        using var events = new ArrayPoolBufferWriter();
        // The Responses edge turns the replayed chat stream into Responses events, whose last one carries the usage.
        if (!TryRenderStream(stored.Span, request.ClientWantsUsage || request.Endpoint == OpenAiEndpoint.Responses, events))
        {
            return false;
        }

        WriteHeaders(response, request, key, time);
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        if (judged)
        {
            await ReplayThroughTapsAsync(context, request, events.WrittenMemory, stream: true, errors);
            return true;
        }

        await response.BodyWriter.WriteAsync(events.WrittenMemory, context.RequestAborted);
        return true;
    }

    // during_call and post_call guardrails see a stored answer exactly as they see a fresh one: through the same copier.
    private static bool IsJudged(GatewayRequestContext request)
    {
        if (request.ResponseTaps is not { } taps)
        {
            return false;
        }

        foreach (var tap in taps)
        {
            if (tap is Guardrails.IGuardrailTap)
            {
                return true;
            }
        }

        return false;
    }

    private static async Task ReplayThroughTapsAsync(HttpContext context, GatewayRequestContext request, ReadOnlyMemory<byte> body, bool stream, IOpenAiErrorWriter errors)
    {
        using var message = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new ReadOnlyMemoryContent(body) };
        var observer = new Usage.UsageObserver();
        observer.Reset(stream, hideUsageChunk: false);
        await Streaming.ResponseCopier.CopyAsync(context, message, request, idleTimeout: null, context.RequestAborted, errors, observer);
    }

    private static void WriteHeaders(HttpResponse response, GatewayRequestContext request, string key, TimeProvider time)
    {
        response.StatusCode = 200;
        var headers = response.Headers;
        // The key lets its holder probe and delete entries (/cache/delete): only the master key is shown it.
        if (request.IsMasterKey)
        {
            headers[CacheKeyHeader] = key;
        }

        headers["x-litellm-response-cost"] = "0";
        headers["x-litellm-model-group"] = Http.HeaderValues.Safe(request.ModelGroup);
        var elapsed = time.GetElapsedTime(request.StartTimestamp).TotalMilliseconds;
        headers["x-litellm-response-duration-ms"] = elapsed.ToString("0.###", CultureInfo.InvariantCulture);
    }

    internal static bool TryRenderStream(ReadOnlySpan<byte> stored, bool includeUsage, IBufferWriter<byte> output)
    {
        try
        {
            return RenderStream(stored, includeUsage, output);
        }
        catch (JsonException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static bool RenderStream(ReadOnlySpan<byte> stored, bool includeUsage, IBufferWriter<byte> output)
    {
        var top = ReadTop(stored);
        if (top.Choices.Length == 0)
        {
            return false;
        }

        var text = stored.Slice(top.Object.Start, top.Object.Length).SequenceEqual("\"text_completion\""u8);
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        var choices = stored.Slice(top.Choices.Start, top.Choices.Length);

        // One chunk per choice with everything it said, then one per choice with its finish reason.
        for (var pass = 0; pass < 2; pass++)
        {
            var reader = new Utf8JsonReader(choices);
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                var choice = choices[start..(int)reader.BytesConsumed];
                BeginEvent(output, json, stored, top, text);
                WriteChoiceChunk(json, choice, text, finish: pass == 1);
                EndEvent(output, json, includeUsage: false, stored, top);
            }
        }

        if (includeUsage && top.Usage.Length > 0)
        {
            BeginEvent(output, json, stored, top, text);
            EndEvent(output, json, includeUsage: true, stored, top);
        }

        output.Write("data: [DONE]\n\n"u8);
        return true;
    }

    private static void BeginEvent(IBufferWriter<byte> output, Utf8JsonWriter json, ReadOnlySpan<byte> stored, in TopLevel top, bool text)
    {
        output.Write("data: "u8);
        json.Reset(output);
        json.WriteStartObject();
        WriteRaw(json, "id"u8, stored, top.Id, "\"\""u8);
        json.WriteString("object"u8, text ? "text_completion"u8 : "chat.completion.chunk"u8);
        WriteRaw(json, "created"u8, stored, top.Created, "0"u8);
        WriteRaw(json, "model"u8, stored, top.Model, "\"\""u8);
        if (top.SystemFingerprint.Length > 0)
        {
            WriteRaw(json, "system_fingerprint"u8, stored, top.SystemFingerprint, "null"u8);
        }

        json.WriteStartArray("choices"u8);
    }

    private static void EndEvent(IBufferWriter<byte> output, Utf8JsonWriter json, bool includeUsage, ReadOnlySpan<byte> stored, in TopLevel top)
    {
        json.WriteEndArray();
        if (includeUsage)
        {
            WriteRaw(json, "usage"u8, stored, top.Usage, "null"u8);
        }

        json.WriteEndObject();
        json.Flush();
        output.Write("\n\n"u8);
    }

    private static void WriteChoiceChunk(Utf8JsonWriter json, ReadOnlySpan<byte> choice, bool text, bool finish)
    {
        Range index = default, message = default, textValue = default, finishReason = default;
        var reader = new Utf8JsonReader(choice);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isIndex = reader.ValueTextEquals("index"u8);
            var isMessage = reader.ValueTextEquals("message"u8);
            var isText = reader.ValueTextEquals("text"u8);
            var isFinish = reader.ValueTextEquals("finish_reason"u8);
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            var range = new Range(start, (int)reader.BytesConsumed);
            if (isIndex)
            {
                index = range;
            }
            else if (isMessage)
            {
                message = range;
            }
            else if (isText)
            {
                textValue = range;
            }
            else if (isFinish)
            {
                finishReason = range;
            }
        }

        json.WriteStartObject();
        json.WritePropertyName("index"u8);
        json.WriteRawValue(IsSet(index) ? choice[index] : "0"u8, skipInputValidation: true);
        if (text)
        {
            json.WritePropertyName("text"u8);
            json.WriteRawValue(!finish && IsSet(textValue) ? choice[textValue] : "\"\""u8, skipInputValidation: true);
        }
        else
        {
            json.WriteStartObject("delta"u8);
            if (!finish && IsSet(message))
            {
                WriteDelta(json, choice[message]);
            }

            json.WriteEndObject();
        }

        json.WriteNull("logprobs"u8);
        json.WritePropertyName("finish_reason"u8);
        json.WriteRawValue(finish && IsSet(finishReason) ? choice[finishReason] : "null"u8, skipInputValidation: true);
        json.WriteEndObject();
    }

    // The message's members become the delta; tool calls get the index that streamed tool calls carry.
    private static void WriteDelta(Utf8JsonWriter json, ReadOnlySpan<byte> message)
    {
        var reader = new Utf8JsonReader(message);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isToolCalls = reader.ValueTextEquals("tool_calls"u8);
            var name = reader.ValueIsEscaped ? System.Text.Encoding.UTF8.GetBytes(reader.GetString()!) : reader.ValueSpan;
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            if (reader.TokenType == JsonTokenType.Null)
            {
                continue;
            }

            if (isToolCalls && reader.TokenType == JsonTokenType.StartArray)
            {
                json.WriteStartArray(name);
                var position = 0;
                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                {
                    var callStart = (int)reader.TokenStartIndex;
                    reader.Skip();
                    WriteToolCall(json, message[callStart..(int)reader.BytesConsumed], position++);
                }

                json.WriteEndArray();
                continue;
            }

            reader.Skip();
            json.WritePropertyName(name);
            json.WriteRawValue(message[start..(int)reader.BytesConsumed], skipInputValidation: true);
        }
    }

    private static void WriteToolCall(Utf8JsonWriter json, ReadOnlySpan<byte> call, int position)
    {
        json.WriteStartObject();
        json.WriteNumber("index"u8, position);
        var reader = new Utf8JsonReader(call);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("index"u8))
            {
                reader.Read();
                continue;
            }

            var name = reader.ValueIsEscaped ? System.Text.Encoding.UTF8.GetBytes(reader.GetString()!) : reader.ValueSpan;
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            json.WritePropertyName(name);
            json.WriteRawValue(call[start..(int)reader.BytesConsumed], skipInputValidation: true);
        }

        json.WriteEndObject();
    }

    private static bool IsSet(Range range) => !range.Equals(default(Range));

    private static void WriteRaw(Utf8JsonWriter json, ReadOnlySpan<byte> name, ReadOnlySpan<byte> stored, Slice slice, ReadOnlySpan<byte> fallback)
    {
        json.WritePropertyName(name);
        json.WriteRawValue(slice.Length > 0 ? stored.Slice(slice.Start, slice.Length) : fallback, skipInputValidation: true);
    }

    private static TopLevel ReadTop(ReadOnlySpan<byte> stored)
    {
        var top = default(TopLevel);
        var reader = new Utf8JsonReader(stored);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return top;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            ref var slot = ref top.SlotFor(ref reader);
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            slot = new Slice(start, (int)reader.BytesConsumed - start);
        }

        return top;
    }

    private readonly record struct Slice(int Start, int Length);

    private struct TopLevel
    {
        public Slice Id;
        public Slice Object;
        public Slice Created;
        public Slice Model;
        public Slice SystemFingerprint;
        public Slice Choices;
        public Slice Usage;
        private Slice _ignored;

        [System.Diagnostics.CodeAnalysis.UnscopedRef]
        public ref Slice SlotFor(ref Utf8JsonReader reader)
        {
            if (reader.ValueTextEquals("id"u8))
            {
                return ref Id;
            }

            if (reader.ValueTextEquals("object"u8))
            {
                return ref Object;
            }

            if (reader.ValueTextEquals("created"u8))
            {
                return ref Created;
            }

            if (reader.ValueTextEquals("model"u8))
            {
                return ref Model;
            }

            if (reader.ValueTextEquals("system_fingerprint"u8))
            {
                return ref SystemFingerprint;
            }

            if (reader.ValueTextEquals("choices"u8))
            {
                return ref Choices;
            }

            return ref reader.ValueTextEquals("usage"u8) ? ref Usage : ref _ignored;
        }
    }
}
