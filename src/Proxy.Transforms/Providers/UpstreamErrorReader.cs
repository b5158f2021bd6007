using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Proxy.Abstractions;

namespace Proxy.Transforms.Providers;

/// <summary>
/// Turns an upstream error response (vLLM's nested or flat body, FastAPI's {"detail"}, OpenAI's, or plain text) into
/// the LiteLLM-style error the client sees, and classifies it for retries and fallbacks.
/// </summary>
public static class UpstreamErrorReader
{
    private const int MaxErrorBodyBytes = 64 * 1024;

    public static async ValueTask<(GatewayError Error, UpstreamFailureKind Kind)> ReadAsync(
        HttpResponseMessage response, Deployment deployment, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        string? message = null;
        string? param = null;
        var contentFilter = false;
        try
        {
            var body = await ReadBoundedAsync(response.Content, cancellationToken);
            (message, param) = Parse(body);
            // Azure OpenAI's refusal: {"error": {"code": "content_filter", ...}}.
            contentFilter = status == 400 && body.AsSpan().IndexOf("\"content_filter\""u8) >= 0;
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
        {
            message = "the upstream closed the connection while sending its error";
        }

        message ??= $"upstream answered HTTP {status.ToString(CultureInfo.InvariantCulture)}";
        var kind = contentFilter ? UpstreamFailureKind.ContentPolicyViolation : Classify(status, message);
        var retryAfter = RetryAfterSeconds(response.Headers.RetryAfter);
        var text = $"litellm.{ExceptionName(kind, status)}: {deployment.ProviderLabel}Exception - {message}. Received Model Group={deployment.ModelGroup}";
        return (new GatewayError(StatusFor(status), TypeFor(kind), text, param, retryAfter), kind);
    }

    public static UpstreamFailureKind Classify(int status, string message)
    {
        if (status == 400 || status == 413 || status == 422)
        {
            if (IsContextWindow(message))
            {
                return UpstreamFailureKind.ContextWindowExceeded;
            }

            return IsContentPolicy(message) ? UpstreamFailureKind.ContentPolicyViolation : UpstreamFailureKind.BadRequest;
        }

        return status switch
        {
            401 => UpstreamFailureKind.Authentication,
            403 => UpstreamFailureKind.PermissionDenied,
            404 => UpstreamFailureKind.NotFound,
            408 => UpstreamFailureKind.Timeout,
            429 => UpstreamFailureKind.RateLimit,
            // 529 is Anthropic's overloaded_error: the same as a 503 to retries, cooldown and fallbacks.
            503 or 529 => UpstreamFailureKind.ServiceUnavailable,
            _ when status >= 500 => UpstreamFailureKind.InternalServer,
            _ => UpstreamFailureKind.BadRequest,
        };
    }

    // The phrases LiteLLM's exception mapping treats as a context-window error; vLLM's 400 says "maximum context length".
    private static bool IsContextWindow(string message) =>
        message.Contains("maximum context length", StringComparison.OrdinalIgnoreCase)
        || message.Contains("context_length_exceeded", StringComparison.OrdinalIgnoreCase)
        || message.Contains("prompt is too long", StringComparison.OrdinalIgnoreCase)
        || message.Contains("longer than the model's context length", StringComparison.OrdinalIgnoreCase)
        || message.Contains("Input is too long", StringComparison.OrdinalIgnoreCase)
        || message.Contains("exceeds the maximum number of tokens", StringComparison.OrdinalIgnoreCase);

    private static bool IsContentPolicy(string message) =>
        message.Contains("content_filter", StringComparison.OrdinalIgnoreCase)
        || message.Contains("content management policy", StringComparison.OrdinalIgnoreCase)
        || message.Contains("safety system", StringComparison.OrdinalIgnoreCase);

    // Clients know 529 from Anthropic only; LiteLLM answers it as a 503.
    private static int StatusFor(int upstreamStatus) => upstreamStatus == 529 ? 503 : upstreamStatus is >= 400 and <= 599 ? upstreamStatus : 502;

    public static string ExceptionName(UpstreamFailureKind kind, int status) => kind switch
    {
        UpstreamFailureKind.ContextWindowExceeded => "ContextWindowExceededError",
        UpstreamFailureKind.ContentPolicyViolation => "ContentPolicyViolationError",
        UpstreamFailureKind.BadRequest when status == 422 => "UnprocessableEntityError",
        UpstreamFailureKind.BadRequest => "BadRequestError",
        UpstreamFailureKind.Authentication => "AuthenticationError",
        UpstreamFailureKind.PermissionDenied => "PermissionDeniedError",
        UpstreamFailureKind.NotFound => "NotFoundError",
        UpstreamFailureKind.Timeout => "Timeout",
        UpstreamFailureKind.RateLimit => "RateLimitError",
        UpstreamFailureKind.ServiceUnavailable => "ServiceUnavailableError",
        UpstreamFailureKind.Connection => "APIConnectionError",
        _ => status == 500 ? "InternalServerError" : "APIError",
    };

    public static string TypeFor(UpstreamFailureKind kind) => kind switch
    {
        UpstreamFailureKind.BadRequest or UpstreamFailureKind.ContextWindowExceeded or UpstreamFailureKind.ContentPolicyViolation => "invalid_request_error",
        UpstreamFailureKind.Authentication => "authentication_error",
        UpstreamFailureKind.PermissionDenied => "permission_error",
        UpstreamFailureKind.NotFound => "not_found_error",
        UpstreamFailureKind.Timeout => "timeout",
        UpstreamFailureKind.RateLimit => "throttling_error",
        UpstreamFailureKind.ServiceUnavailable => "service_unavailable",
        UpstreamFailureKind.Connection => "api_connection_error",
        _ => "internal_server_error",
    };

    private static int RetryAfterSeconds(RetryConditionHeaderValue? retryAfter)
    {
        if (retryAfter?.Delta is { } delta)
        {
            return (int)Math.Clamp(Math.Ceiling(delta.TotalSeconds), 0, 3600);
        }

        return 0;
    }

    private static async ValueTask<ArraySegment<byte>> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[4096];
        var length = 0;
        while (length < MaxErrorBodyBytes)
        {
            if (length == buffer.Length)
            {
                Array.Resize(ref buffer, Math.Min(buffer.Length * 2, MaxErrorBodyBytes));
            }

            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                break;
            }

            length += read;
        }

        return new ArraySegment<byte>(buffer, 0, length);
    }

    internal static (string? Message, string? Param) Parse(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return (null, null);
        }

        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                // OpenAI and vLLM >= 0.10 nest the error; older vLLM sends it flat; FastAPI sends {"detail": ...}.
                var source = root.TryGetProperty("error"u8, out var nested) && nested.ValueKind == JsonValueKind.Object ? nested : root;
                var message = source.TryGetProperty("message"u8, out var m) ? AsText(m) : null;
                if (message is null && root.TryGetProperty("detail"u8, out var detail))
                {
                    message = AsText(detail);
                }

                if (message is null && nested.ValueKind == JsonValueKind.String)
                {
                    message = nested.GetString();
                }

                var param = source.TryGetProperty("param"u8, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
                return (message, param);
            }
        }
        catch (JsonException)
        {
            // Not JSON: fall through to the raw text.
        }

        var text = Encoding.UTF8.GetString(body.Length > 2048 ? body[..2048] : body).Trim();
        return (text.Length == 0 ? null : text, null);
    }

    private static string? AsText(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => element.GetRawText(),
    };
}
