using System.Buffers;
using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>
/// Anthropic's Messages API as a client protocol (Claude Code, the Anthropic SDKs): <c>/v1/messages</c> and
/// <c>/v1/messages/count_tokens</c>, with or without <c>/v1</c>, translated to and from chat by the units in this folder.
/// </summary>
public sealed class AnthropicMessagesProtocol : IInboundProtocol
{
    public ClientProtocol Protocol => ClientProtocol.AnthropicMessages;

    public bool TryMatch(PathString path, out OpenAiEndpoint endpoint)
    {
        var value = path.Value.AsSpan();
        if (value.StartsWith("/v1/", StringComparison.Ordinal))
        {
            value = value[3..];
        }

        if (value.Equals("/messages", StringComparison.OrdinalIgnoreCase) || value.Equals("/messages/", StringComparison.OrdinalIgnoreCase))
        {
            endpoint = OpenAiEndpoint.AnthropicMessages;
            return true;
        }

        if (value.Equals("/messages/count_tokens", StringComparison.OrdinalIgnoreCase))
        {
            endpoint = OpenAiEndpoint.AnthropicCountTokens;
            return true;
        }

        // Anthropic's other Messages routes (batches) are not served, but their 404 is answered in Anthropic's shape too.
        endpoint = OpenAiEndpoint.AnthropicMessages;
        return value.StartsWith("/messages/", StringComparison.OrdinalIgnoreCase);
    }

    public GatewayError? TranslateRequest(ReadOnlySpan<byte> body, OpenAiEndpoint endpoint, IBufferWriter<byte> chat) =>
        MessagesRequestTranslator.Translate(body, chat, countTokens: endpoint == OpenAiEndpoint.AnthropicCountTokens);

    public IResponseBodyTranslator CreateResponseTranslator(bool stream, GatewayRequestContext request)
    {
        // Anthropic answers name the model the client asked for (an alias stays an alias).
        var model = request.RequestedModel ?? request.ModelGroup ?? "";
        return stream
            ? new ChatToMessagesStreamTranslator(model, request.EstimatedInputTokens)
            : new ChatToMessagesResponseTranslator(model);
    }

    public void WriteError(IBufferWriter<byte> output, GatewayError error, GatewayRequestContext? request) =>
        AnthropicErrors.WriteBody(output, error, request?.CallId);

    public void WriteStreamError(IBufferWriter<byte> output, GatewayError error, GatewayRequestContext? request) =>
        AnthropicErrors.WriteSseEvent(output, error, request?.CallId);
}
