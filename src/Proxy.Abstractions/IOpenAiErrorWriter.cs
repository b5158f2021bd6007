using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Proxy.Abstractions;

/// <summary>The one writer of OpenAI-shaped error bodies, so that every error a client sees has the same shape.</summary>
public interface IOpenAiErrorWriter
{
    /// <summary>Writes the error as the whole response (status, headers, JSON body). The response must not have started.</summary>
    Task WriteAsync(HttpContext context, GatewayError error);

    /// <summary>Writes <c>data: {"error":{...}}\n\n</c> for a stream that has already started.</summary>
    void WriteSseEvent(IBufferWriter<byte> writer, GatewayError error);

    /// <summary>The error object as JSON bytes (no SSE framing).</summary>
    void WriteJson(IBufferWriter<byte> writer, GatewayError error);
}
