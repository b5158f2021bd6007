using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;

namespace Proxy.Transforms.Mock;

/// <summary>
/// Answers a request from <c>mock_response</c> (in the body or in a deployment's litellm_params) without calling an
/// upstream, in the same shapes a real OpenAI-compatible server uses, streamed or not, with an estimated usage block.
/// </summary>
public static class MockResponder
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>LiteLLM's special mock strings raise an error instead of answering.</summary>
    public static bool TryGetMockError(string content, string modelGroup, out GatewayError error, out UpstreamFailureKind kind)
    {
        (kind, var status) = content switch
        {
            "litellm.RateLimitError" => (UpstreamFailureKind.RateLimit, 429),
            "litellm.InternalServerError" => (UpstreamFailureKind.InternalServer, 500),
            "litellm.ContextWindowExceededError" => (UpstreamFailureKind.ContextWindowExceeded, 400),
            "litellm.ServiceUnavailableError" => (UpstreamFailureKind.ServiceUnavailable, 503),
            "litellm.Timeout" => (UpstreamFailureKind.Timeout, 408),
            _ => (UpstreamFailureKind.None, 0),
        };
        if (kind == UpstreamFailureKind.None)
        {
            error = default;
            return false;
        }

        var name = Providers.UpstreamErrorReader.ExceptionName(kind, status);
        error = new GatewayError(status, Providers.UpstreamErrorReader.TypeFor(kind),
            $"litellm.{name}: This is a mock exception for model={modelGroup}, from mock_response=\"{content}\".");
        return true;
    }

    public static async Task WriteAsync(HttpContext context, GatewayRequestContext request, string content, int promptBytes, bool includeUsage, TimeProvider time)
    {
        var response = context.Response;
        var promptTokens = Math.Max(1, (promptBytes + 3) / 4);
        var completionTokens = Math.Max(1, (content.Length + 3) / 4);
        // The mock's usage is what spend, metrics and logs count, as for a real answer.
        request.PromptTokens = promptTokens;
        request.CompletionTokens = request.Endpoint == OpenAiEndpoint.Embeddings ? 0 : completionTokens;
        var model = request.ModelGroup ?? "";
        var id = NewId(request.Endpoint);
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        if (request.Deployment is { } deployment)
        {
            response.Headers["x-litellm-model-id"] = deployment.Id;
        }

        response.Headers["x-litellm-model-group"] = model;
        if (request.Endpoint == OpenAiEndpoint.Embeddings)
        {
            response.ContentType = "application/json";
            WriteEmbeddings(response, model, promptTokens);
            await response.BodyWriter.FlushAsync(context.RequestAborted);
            return;
        }

        if (!request.Stream)
        {
            response.ContentType = "application/json";
            using (var json = new Utf8JsonWriter(response.BodyWriter, WriterOptions))
            {
                json.WriteStartObject();
                WriteHeader(json, id, request.Endpoint, created, model, chunk: false);
                json.WriteStartArray("choices"u8);
                json.WriteStartObject();
                json.WriteNumber("index"u8, 0);
                if (request.Endpoint == OpenAiEndpoint.ChatCompletions)
                {
                    json.WriteStartObject("message"u8);
                    json.WriteString("role"u8, "assistant"u8);
                    json.WriteString("content"u8, content);
                    json.WriteEndObject();
                }
                else
                {
                    json.WriteString("text"u8, content);
                }

                json.WriteNull("logprobs"u8);
                json.WriteString("finish_reason"u8, "stop"u8);
                json.WriteEndObject();
                json.WriteEndArray();
                WriteUsage(json, promptTokens, completionTokens);
                json.WriteEndObject();
            }

            await response.BodyWriter.FlushAsync(context.RequestAborted);
            return;
        }

        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var chat = request.Endpoint == OpenAiEndpoint.ChatCompletions;
        if (chat)
        {
            WriteChunk(response, id, request.Endpoint, created, model, role: true, text: "", finish: null);
        }

        var start = 0;
        while (start < content.Length)
        {
            // One chunk per word with its trailing space, as token streams look.
            var end = content.IndexOf(' ', start);
            end = end < 0 ? content.Length : end + 1;
            WriteChunk(response, id, request.Endpoint, created, model, role: false, text: content[start..end], finish: null);
            await response.BodyWriter.FlushAsync(context.RequestAborted);
            start = end;
        }

        WriteChunk(response, id, request.Endpoint, created, model, role: false, text: chat ? null : "", finish: "stop");
        if (includeUsage)
        {
            WriteEvent(response, json =>
            {
                WriteHeader(json, id, request.Endpoint, created, model, chunk: true);
                json.WriteStartArray("choices"u8);
                json.WriteEndArray();
                WriteUsage(json, promptTokens, completionTokens);
            });
        }

        response.BodyWriter.Write("data: [DONE]\n\n"u8);
        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private static string NewId(OpenAiEndpoint endpoint) => endpoint switch
    {
        OpenAiEndpoint.ChatCompletions => "chatcmpl-",
        OpenAiEndpoint.Completions => "cmpl-",
        _ => "embd-",
    } + Guid.NewGuid().ToString("N");

    private static void WriteHeader(Utf8JsonWriter json, string id, OpenAiEndpoint endpoint, long created, string model, bool chunk)
    {
        json.WriteString("id"u8, id);
        if (endpoint == OpenAiEndpoint.ChatCompletions)
        {
            json.WriteString("object"u8, chunk ? "chat.completion.chunk"u8 : "chat.completion"u8);
        }
        else
        {
            json.WriteString("object"u8, "text_completion"u8);
        }

        json.WriteNumber("created"u8, created);
        json.WriteString("model"u8, model);
    }

    private static void WriteChunk(HttpResponse response, string id, OpenAiEndpoint endpoint, long created, string model, bool role, string? text, string? finish)
    {
        WriteEvent(response, json =>
        {
            WriteHeader(json, id, endpoint, created, model, chunk: true);
            json.WriteStartArray("choices"u8);
            json.WriteStartObject();
            json.WriteNumber("index"u8, 0);
            if (endpoint == OpenAiEndpoint.ChatCompletions)
            {
                json.WriteStartObject("delta"u8);
                if (role)
                {
                    json.WriteString("role"u8, "assistant"u8);
                }

                if (text is not null)
                {
                    json.WriteString("content"u8, text);
                }

                json.WriteEndObject();
            }
            else
            {
                json.WriteString("text"u8, text ?? "");
            }

            json.WriteNull("logprobs"u8);
            if (finish is null)
            {
                json.WriteNull("finish_reason"u8);
            }
            else
            {
                json.WriteString("finish_reason"u8, finish);
            }

            json.WriteEndObject();
            json.WriteEndArray();
        });
    }

    private static void WriteEvent(HttpResponse response, Action<Utf8JsonWriter> body)
    {
        var writer = response.BodyWriter;
        writer.Write("data: "u8);
        using (var json = new Utf8JsonWriter(writer, WriterOptions))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        writer.Write("\n\n"u8);
    }

    private static void WriteUsage(Utf8JsonWriter json, int promptTokens, int completionTokens)
    {
        json.WriteStartObject("usage"u8);
        json.WriteNumber("prompt_tokens"u8, promptTokens);
        json.WriteNumber("completion_tokens"u8, completionTokens);
        json.WriteNumber("total_tokens"u8, promptTokens + completionTokens);
        json.WriteEndObject();
    }

    private static void WriteEmbeddings(HttpResponse response, string model, int promptTokens)
    {
        using var json = new Utf8JsonWriter(response.BodyWriter, WriterOptions);
        json.WriteStartObject();
        json.WriteString("object"u8, "list"u8);
        json.WriteStartArray("data"u8);
        json.WriteStartObject();
        json.WriteString("object"u8, "embedding"u8);
        json.WriteNumber("index"u8, 0);
        json.WriteStartArray("embedding"u8);
        for (var i = 0; i < 8; i++)
        {
            json.WriteNumberValue(0.125 * (i + 1));
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteString("model"u8, model);
        json.WriteStartObject("usage"u8);
        json.WriteNumber("prompt_tokens"u8, promptTokens);
        json.WriteNumber("total_tokens"u8, promptTokens);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
