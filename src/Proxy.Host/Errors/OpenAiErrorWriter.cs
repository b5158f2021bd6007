using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.Net.Http.Headers;
using Proxy.Abstractions;
using Proxy.Transforms.Protocols;

namespace Proxy.Host.Errors;

/// <summary>
/// Writes every error body the gateway sends: in OpenAI's shape with LiteLLM's string <c>code</c>, or, for a client of
/// another protocol (Anthropic Messages), in that protocol's shape with the same status.
/// </summary>
internal sealed class OpenAiErrorWriter(InboundProtocols protocols) : IOpenAiErrorWriter
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public Task WriteAsync(HttpContext context, GatewayError error)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            // Nothing sensible can be written any more; the caller must end the stream instead.
            return Task.CompletedTask;
        }

        var request = GatewayRequestContext.Get(context);
        request?.Outcome.AnsweredError = error;
        response.StatusCode = error.Status;
        response.ContentType = "application/json";
        response.ContentLength = null;
        if (error.RetryAfterSeconds > 0)
        {
            response.Headers[HeaderNames.RetryAfter] = error.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        }

        if (request is not null && protocols.For(request.Protocol) is { } protocol)
        {
            protocol.WriteError(response.BodyWriter, error, request);
        }
        else
        {
            WriteJson(response.BodyWriter, error);
        }

        return response.BodyWriter.FlushAsync(context.RequestAborted).AsTask();
    }

    public void WriteSseEvent(HttpContext context, IBufferWriter<byte> writer, GatewayError error)
    {
        if (GatewayRequestContext.Get(context) is { } request && protocols.For(request.Protocol) is { } protocol)
        {
            protocol.WriteStreamError(writer, error, request);
            return;
        }

        WriteSseEvent(writer, error);
    }

    public void WriteSseEvent(IBufferWriter<byte> writer, GatewayError error)
    {
        writer.Write("data: "u8);
        WriteJson(writer, error);
        writer.Write("\n\n"u8);
    }

    public void WriteJson(IBufferWriter<byte> writer, GatewayError error)
    {
        using var json = new Utf8JsonWriter(writer, WriterOptions);
        json.WriteStartObject();
        json.WriteStartObject("error"u8);
        json.WriteString("message"u8, error.Message);
        json.WriteString("type"u8, error.Type);
        if (error.Param is null)
        {
            json.WriteNull("param"u8);
        }
        else
        {
            json.WriteString("param"u8, error.Param);
        }

        json.WriteString("code"u8, error.Code);
        error.Details?.WriteTo(json);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
