using System.Buffers;
using Proxy.Abstractions;
using Proxy.Transforms.Body;
using Proxy.Transforms.Protocols.Anthropic;
using Proxy.Transforms.Providers;
using Proxy.Transforms.Streaming;

namespace Proxy.Host.Pipeline;

/// <summary>
/// The body one attempt sends to its deployment: the chat body spliced for an OpenAI-compatible upstream (model,
/// include_usage, LiteLLM-only fields removed), translated for an Anthropic upstream, or the client's own body (model
/// rewritten, LiteLLM-only fields removed) for a deployment that speaks the client's protocol natively.
/// </summary>
internal static class UpstreamBody
{
    /// <returns>The error that ends this attempt when the deployment cannot serve the request; else null.</returns>
    /// <param name="owned">A buffer the caller disposes after the attempt (default when the body is forwarded as it is).</param>
    /// <param name="forwarded">What to send.</param>
    public static GatewayError? Build(ProxyRequestState state, GatewayRequestContext request, Deployment deployment, out PooledBuffer owned, out PooledBuffer forwarded)
    {
        owned = default;
        forwarded = default;
        var endpoint = UpstreamAttempt.EndpointFor(request, deployment);
        if (deployment.UriFor(endpoint) is null)
        {
            return Unsupported(deployment, endpoint);
        }

        if (endpoint is OpenAiEndpoint.ResponsesRetrieve or OpenAiEndpoint.ResponsesDelete or OpenAiEndpoint.ResponsesCancel or OpenAiEndpoint.ResponsesInputItems)
        {
            // An operation on a stored response: its (empty) body goes as sent; the path names the response.
            forwarded = state.Body;
            return null;
        }

        if (endpoint == OpenAiEndpoint.Responses)
        {
            // stream_options is chat's; a Responses stream reports usage in its last event anyway.
            forwarded = Splice(state.Body, in state.Scan, deployment.UpstreamModel, forceIncludeUsage: false, out owned);
            if (state.UpstreamPreviousResponseId is { } upstreamId)
            {
                forwarded = ReplacePreviousResponseId(forwarded, upstreamId, ref owned);
            }

            return null;
        }

        if (UpstreamAttempt.IsNativeMessages(request, deployment))
        {
            forwarded = Splice(state.ClientBody, in state.ClientScan, deployment.UpstreamModel, forceIncludeUsage: false, out owned);
            return null;
        }

        if (UpstreamAttempt.TranslatesChat(request, deployment))
        {
            var translated = new ArrayPoolBufferWriter();
            try
            {
                if (ChatRequestToMessagesTranslator.Translate(state.Body.Span, deployment.UpstreamModel, translated) is { } error)
                {
                    return error;
                }

                owned = translated.Detach();
                forwarded = owned;
                return null;
            }
            finally
            {
                translated.Dispose();
            }
        }

        forwarded = Splice(state.Body, in state.Scan, deployment.UpstreamModel, request.ForceStreamUsage, out owned);
        return null;
    }

    // The client's previous_response_id names our id; the deployment knows its own. Found again in the spliced body (its
    // offsets moved with the model), so follow-ups alone pay for a second copy.
    private static PooledBuffer ReplacePreviousResponseId(PooledBuffer body, string upstreamId, ref PooledBuffer owned)
    {
        if (RequestScanner.Scan(body.Span, out var scan) != ScanStatus.Ok || scan.PreviousResponseId is null)
        {
            return body;
        }

        var value = new ArrayPoolBufferWriter();
        try
        {
            var span = body.Span;
            value.Write(span[..scan.PreviousResponseIdValueStart]);
            using (var json = new System.Text.Json.Utf8JsonWriter(value))
            {
                json.WriteStringValue(upstreamId);
            }

            value.Write(span[(scan.PreviousResponseIdValueStart + scan.PreviousResponseIdValueLength)..]);
            owned.Dispose();
            owned = value.Detach();
            return owned;
        }
        finally
        {
            value.Dispose();
        }
    }

    private static PooledBuffer Splice(PooledBuffer body, in RequestScan scan, string model, bool forceIncludeUsage, out PooledBuffer owned)
    {
        owned = default;
        if (BodySplicer.IsIdentity(in scan, body.Span, model, forceIncludeUsage))
        {
            return body;
        }

        owned = BodySplicer.Splice(body.Span, in scan, model, forceIncludeUsage);
        return owned;
    }

    private static GatewayError Unsupported(Deployment deployment, OpenAiEndpoint endpoint) => new(400, "invalid_request_error",
        $"litellm.BadRequestError: {deployment.ProviderLabel}Exception - deployment {deployment.Id} of model group {deployment.ModelGroup} "
        + $"({deployment.Provider}/) does not serve {Describe(endpoint)}. Send this request to a model group whose deployments do.");

    private static string Describe(OpenAiEndpoint endpoint) => endpoint switch
    {
        OpenAiEndpoint.ChatCompletions => "/v1/chat/completions",
        OpenAiEndpoint.Completions => "/v1/completions",
        OpenAiEndpoint.Embeddings => "/v1/embeddings",
        OpenAiEndpoint.Moderations => "/v1/moderations",
        OpenAiEndpoint.AnthropicCountTokens => "/v1/messages/count_tokens",
        _ => "/v1/messages",
    };
}
