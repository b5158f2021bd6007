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

    /// <param name="errors">For taps that refuse the answer (post_call guardrails).</param>
    public static async Task WriteAsync(
        HttpContext context, GatewayRequestContext request, string content, int promptBytes, TimeProvider time, IOpenAiErrorWriter errors)
    {
        var response = context.Response;
        // A Responses API mock is rendered as chat; the Responses edge turns it into a response as it does a bridged answer.
        var responses = request.Endpoint == OpenAiEndpoint.Responses;
        var endpoint = responses ? OpenAiEndpoint.ChatCompletions : request.Endpoint;
        var promptTokens = Math.Max(1, (promptBytes + 3) / 4);
        var completionTokens = Math.Max(1, (content.Length + 3) / 4);
        // The mock's usage is what spend, metrics and logs count, as for a real answer.
        request.Outcome.SetUsage(promptTokens, request.Endpoint == OpenAiEndpoint.Embeddings ? 0 : completionTokens);
        var mock = new MockAnswer(
            NewId(endpoint), endpoint, time.GetUtcNow().ToUnixTimeSeconds(), request.Attempt.ModelGroup ?? request.ModelGroup ?? "", content, promptTokens, completionTokens);
        if (request.Attempt.Deployment is { } deployment)
        {
            response.Headers["x-litellm-model-id"] = Http.HeaderValues.Safe(deployment.Id);
        }

        response.Headers["x-litellm-model-group"] = Http.HeaderValues.Safe(mock.Model);
        var stream = request.Stream && request.Endpoint != OpenAiEndpoint.Embeddings;
        response.ContentType = stream ? "text/event-stream" : "application/json";
        if (stream)
        {
            response.Headers.CacheControl = "no-cache";
        }

        if (request.ResponseTaps is null)
        {
            if (stream)
            {
                await WriteStreamAsync(response.BodyWriter, mock, request.ClientWantsUsage || responses, context.RequestAborted);
            }
            else
            {
                WriteBody(response.BodyWriter, mock);
                await response.BodyWriter.FlushAsync(context.RequestAborted);
            }

            return;
        }

        // Taps (post_call guardrails, the cache, the cost header) see a mock answer exactly as they see an upstream's:
        // rendered whole, then through the same copier, usage filter included.
        var rendered = new ArrayBufferWriter<byte>();
        if (stream)
        {
            await WriteStreamAsync(rendered, mock, request.ClientWantsUsage || request.ForceStreamUsage || responses, CancellationToken.None);
        }
        else
        {
            WriteBody(rendered, mock);
        }

        using var message = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new ReadOnlyMemoryContent(rendered.WrittenMemory) };
        var observer = new Usage.UsageObserver();
        observer.Reset(stream, hideUsageChunk: request.ForceStreamUsage && !request.ClientWantsUsage);
        await Streaming.ResponseCopier.CopyAsync(context, message, request, idleTimeout: null, context.RequestAborted, errors, observer);
    }

    private sealed record MockAnswer(string Id, OpenAiEndpoint Endpoint, long Created, string Model, string Content, int PromptTokens, int CompletionTokens);

    private static void WriteBody(IBufferWriter<byte> output, MockAnswer mock)
    {
        if (mock.Endpoint == OpenAiEndpoint.Embeddings)
        {
            WriteEmbeddings(output, mock.Model, mock.PromptTokens);
            return;
        }

        using var json = new Utf8JsonWriter(output, WriterOptions);
        json.WriteStartObject();
        WriteHeader(json, mock.Id, mock.Endpoint, mock.Created, mock.Model, chunk: false);
        json.WriteStartArray("choices"u8);
        json.WriteStartObject();
        json.WriteNumber("index"u8, 0);
        if (mock.Endpoint == OpenAiEndpoint.ChatCompletions)
        {
            json.WriteStartObject("message"u8);
            json.WriteString("role"u8, "assistant"u8);
            json.WriteString("content"u8, mock.Content);
            json.WriteEndObject();
        }
        else
        {
            json.WriteString("text"u8, mock.Content);
        }

        json.WriteNull("logprobs"u8);
        json.WriteString("finish_reason"u8, "stop"u8);
        json.WriteEndObject();
        json.WriteEndArray();
        WriteUsage(json, mock.PromptTokens, mock.CompletionTokens);
        json.WriteEndObject();
    }

    /// <summary>One chunk per word; a PipeWriter (the client) is flushed after each, a plain buffer just fills.</summary>
    private static async ValueTask WriteStreamAsync(IBufferWriter<byte> output, MockAnswer mock, bool includeUsage, CancellationToken cancellationToken)
    {
        var pipe = output as System.IO.Pipelines.PipeWriter;
        var chat = mock.Endpoint == OpenAiEndpoint.ChatCompletions;
        if (chat)
        {
            WriteChunk(output, mock, role: true, text: "", finish: null);
        }

        var content = mock.Content;
        var start = 0;
        while (start < content.Length)
        {
            // One chunk per word with its trailing space, as token streams look.
            var end = content.IndexOf(' ', start);
            end = end < 0 ? content.Length : end + 1;
            WriteChunk(output, mock, role: false, text: content[start..end], finish: null);
            if (pipe is not null)
            {
                await pipe.FlushAsync(cancellationToken);
            }

            start = end;
        }

        WriteChunk(output, mock, role: false, text: chat ? null : "", finish: "stop");
        if (includeUsage)
        {
            WriteEvent(output, json =>
            {
                WriteHeader(json, mock.Id, mock.Endpoint, mock.Created, mock.Model, chunk: true);
                json.WriteStartArray("choices"u8);
                json.WriteEndArray();
                WriteUsage(json, mock.PromptTokens, mock.CompletionTokens);
            });
        }

        output.Write("data: [DONE]\n\n"u8);
        if (pipe is not null)
        {
            await pipe.FlushAsync(cancellationToken);
        }
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

    private static void WriteChunk(IBufferWriter<byte> output, MockAnswer mock, bool role, string? text, string? finish)
    {
        WriteEvent(output, json =>
        {
            WriteHeader(json, mock.Id, mock.Endpoint, mock.Created, mock.Model, chunk: true);
            json.WriteStartArray("choices"u8);
            json.WriteStartObject();
            json.WriteNumber("index"u8, 0);
            if (mock.Endpoint == OpenAiEndpoint.ChatCompletions)
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

    private static void WriteEvent(IBufferWriter<byte> writer, Action<Utf8JsonWriter> body)
    {
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

    private static void WriteEmbeddings(IBufferWriter<byte> output, string model, int promptTokens)
    {
        using var json = new Utf8JsonWriter(output, WriterOptions);
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
