using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Proxy.Abstractions;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>
/// Anthropic's error shape, <c>{"type":"error","error":{"type","message"},"request_id"}</c>, and its error types by
/// HTTP status (Anthropic's documented table, as LiteLLM maps it; 503 is Anthropic's overloaded_error too). The host's
/// error writer answers Messages clients through this, so every error they see has Anthropic's shape.
/// </summary>
public static class AnthropicErrors
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string TypeFor(int status) => status switch
    {
        400 or 405 or 422 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        408 or 504 => "timeout_error",
        503 or 529 => "overloaded_error",
        _ => "api_error",
    };

    /// <summary>The whole error body. Extra facts (a guardrail's verdict) go inside <c>error</c> after the message.</summary>
    public static void WriteBody(IBufferWriter<byte> output, GatewayError error, string? requestId)
    {
        using var json = new Utf8JsonWriter(output, WriterOptions);
        json.WriteStartObject();
        json.WriteString("type"u8, "error"u8);
        json.WriteStartObject("error"u8);
        json.WriteString("type"u8, TypeFor(error.Status));
        json.WriteString("message"u8, error.Message);
        error.Details?.WriteTo(json);
        json.WriteEndObject();
        if (requestId is not null)
        {
            json.WriteString("request_id"u8, requestId);
        }

        json.WriteEndObject();
    }

    /// <summary><c>event: error</c> for a stream that has started: Anthropic's way of ending a stream that failed.</summary>
    public static void WriteSseEvent(IBufferWriter<byte> output, GatewayError error, string? requestId)
    {
        RawJson.Write(output, "event: error\ndata: "u8);
        WriteBody(output, error, requestId);
        RawJson.Write(output, "\n\n"u8);
    }
}
