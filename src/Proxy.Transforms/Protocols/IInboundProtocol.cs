using System.Buffers;
using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;

namespace Proxy.Transforms.Protocols;

/// <summary>
/// A client protocol other than OpenAI's, translated at the edges of the pipeline: its request into the chat body the
/// pipeline works on (after auth, before routing), the chat answer back (<see cref="CreateResponseTranslator"/>), and
/// every error in its own shape. One implementation per protocol; adding one (OpenAI Responses, Gemini) adds a class
/// here and its translation units, not branches in the pipeline.
/// </summary>
public interface IInboundProtocol
{
    ClientProtocol Protocol { get; }

    /// <summary>
    /// True when a request path belongs to this protocol (its clients expect its error shape there, served or not), with
    /// the endpoint the path stands for.
    /// </summary>
    bool TryMatch(PathString path, out OpenAiEndpoint endpoint);

    /// <summary>Writes the chat body for the client's body into <paramref name="chat"/>; returns the 400 for input chat cannot carry.</summary>
    GatewayError? TranslateRequest(ReadOnlySpan<byte> body, OpenAiEndpoint endpoint, IBufferWriter<byte> chat);

    /// <summary>The translator of one chat answer (an event stream or a JSON body) into this protocol.</summary>
    IResponseBodyTranslator CreateResponseTranslator(bool stream, GatewayRequestContext request);

    /// <summary>An error as this protocol's whole error body.</summary>
    void WriteError(IBufferWriter<byte> output, GatewayError error, GatewayRequestContext? request);

    /// <summary>An error as this protocol's event for a stream that has started.</summary>
    void WriteStreamError(IBufferWriter<byte> output, GatewayError error, GatewayRequestContext? request);
}
