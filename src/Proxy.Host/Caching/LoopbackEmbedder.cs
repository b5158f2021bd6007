using System.Buffers;
using System.Buffers.Text;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Proxy.Host.Pipeline;
using Proxy.Transforms.Caching.Semantic;

namespace Proxy.Host.Caching;

/// <summary>
/// Embeds prompts for the semantic cache by calling this gateway's own <c>/v1/embeddings</c> over loopback, so the
/// embedding group gets everything a client's request gets (routing strategy, retries, fallbacks, cooldown, metrics)
/// with no second copy of the pipeline. The call carries <see cref="InternalCallToken"/> instead of the caller's key,
/// so it is billed to no virtual key and not judged by guardrails again; its spend-log row has no key.
/// </summary>
/// <remarks>
/// In-process alternatives were weighed: replaying the YARP pipeline on a synthetic HttpContext would need the
/// built request delegate (not exposed by WebApplication) and would share the caller's response features. A loopback
/// call costs about 0.1 ms and one pooled connection, next to an embedding that costs milliseconds.
/// </remarks>
internal sealed partial class LoopbackEmbedder(
    IServer server, InternalCallToken token, IHttpClientFactory clients, int metricsPort, ILogger<LoopbackEmbedder> logger) : ISemanticEmbedder
{
    public const string HttpClientName = "semantic-cache-embedder";

    private Uri? _endpoint;

    public async ValueTask<EmbeddingResult> EmbedAsync(EmbeddingRequest request, CancellationToken cancellationToken)
    {
        var endpoint = _endpoint ??= Resolve();
        if (endpoint is null)
        {
            return EmbeddingResult.Failed("the gateway is not listening yet");
        }

        using var message = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(Body(request)) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Value);
        // Traceable to the request it serves: its call id with a suffix (the gateway makes a new one if that is too long).
        message.Headers.TryAddWithoutValidation(GatewayContextMiddleware.CallIdHeader, request.CallId + ".semantic-cache-embedding");
        try
        {
            using var response = await clients.CreateClient(HttpClientName).SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return EmbeddingResult.Failed($"model group {request.ModelGroup} answered {(int)response.StatusCode}: {ErrorMessage(body)}");
            }

            return ReadEmbedding(body) is { } vector ? new EmbeddingResult(vector, null) : EmbeddingResult.Failed("the answer has no data[0].embedding");
        }
        catch (HttpRequestException ex)
        {
            _endpoint = null;
            return EmbeddingResult.Failed(ex.Message);
        }
    }

    /// <summary>The first embedding of an OpenAI embeddings answer (floats, or base64 of little-endian float32).</summary>
    internal static float[]? ReadEmbedding(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 3 || !reader.ValueTextEquals("embedding"u8))
                {
                    continue;
                }

                reader.Read();
                return reader.TokenType switch
                {
                    JsonTokenType.StartArray => ReadFloats(ref reader),
                    JsonTokenType.String => ReadBase64(reader.GetString()!),
                    _ => null,
                };
            }
        }
        catch (JsonException)
        {
            return null;
        }

        return null;
    }

    private static float[] ReadFloats(ref Utf8JsonReader reader)
    {
        var values = new List<float>(1024);
        while (reader.Read() && reader.TokenType == JsonTokenType.Number)
        {
            values.Add(reader.GetSingle());
        }

        return [.. values];
    }

    private static float[]? ReadBase64(string text)
    {
        var bytes = new byte[Base64.GetMaxDecodedFromUtf8Length(text.Length)];
        return Convert.TryFromBase64String(text, bytes, out var written) ? SemanticVectors.FromBytes(bytes.AsSpan(0, written)) : null;
    }

    private static byte[] Body(EmbeddingRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>(request.Text.Length + 128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model"u8, request.ModelGroup);
            json.WriteString("input"u8, request.Text);
            if (request.MaxInputTokens is { } max)
            {
                // vLLM's own truncation (keeps the last tokens); only sent when configured.
                json.WriteNumber("truncate_prompt_tokens"u8, max);
            }

            // As LiteLLM's semantic cache: its embedding calls are never cached themselves.
            json.WriteStartObject("cache"u8);
            json.WriteBoolean("no-cache"u8, true);
            json.WriteBoolean("no-store"u8, true);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string ErrorMessage(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
            {
                var text = message.GetString()!;
                return text.Length > 300 ? text[..300] : text;
            }
        }
        catch (JsonException)
        {
            // Not JSON: say so below.
        }

        return body.Length == 0 ? "(empty body)" : "(not an OpenAI error body)";
    }

    // The gateway's own listening address, as a loopback URL (a wildcard bind is reached on 127.0.0.1 or ::1).
    private Uri? Resolve()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses;
        if (addresses is null)
        {
            return null;
        }

        foreach (var address in addresses)
        {
            if (!Uri.TryCreate(address.Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal).Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal),
                    UriKind.Absolute, out var uri) || uri.Port == metricsPort || uri.Scheme != Uri.UriSchemeHttp)
            {
                continue;
            }

            var host = uri.Host switch
            {
                "0.0.0.0" => "127.0.0.1",
                "[::]" or "::" => "[::1]",
                _ => uri.Host,
            };
            var resolved = new UriBuilder(uri.Scheme, host.Trim('[', ']') == "::1" ? "[::1]" : host, uri.Port, "/v1/embeddings").Uri;
            Log.Resolved(logger, resolved.GetLeftPart(UriPartial.Authority));
            return resolved;
        }

        return null;
    }

    private static partial class Log
    {
        [LoggerMessage(1303, LogLevel.Information, "Semantic cache: prompts are embedded through this gateway at {Address}")]
        public static partial void Resolved(ILogger logger, string address);
    }
}
