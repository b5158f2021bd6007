using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Proxy.Abstractions;

/// <summary>
/// The one writer of error bodies, so that every error a client sees has the same shape: OpenAI's, or the shape of
/// the protocol the client speaks (<see cref="GatewayRequestContext.Protocol"/>, e.g. Anthropic's for /v1/messages).
/// </summary>
public interface IOpenAiErrorWriter
{
    /// <summary>Writes the error as the whole response (status, headers, JSON body). The response must not have started.</summary>
    Task WriteAsync(HttpContext context, GatewayError error);

    /// <summary>Writes <c>data: {"error":{...}}\n\n</c> for a stream that has already started.</summary>
    void WriteSseEvent(IBufferWriter<byte> writer, GatewayError error);

    /// <summary>The error event that ends a started stream, in the protocol the request's client speaks.</summary>
    void WriteSseEvent(HttpContext context, IBufferWriter<byte> writer, GatewayError error);

    /// <summary>The error object as JSON bytes (no SSE framing).</summary>
    void WriteJson(IBufferWriter<byte> writer, GatewayError error);
}
