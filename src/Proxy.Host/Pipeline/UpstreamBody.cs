using System.Buffers;
using Proxy.Abstractions;
using Proxy.Host.Routing;
using Proxy.Transforms.Body;
using Proxy.Transforms.Protocols.Anthropic;
using Proxy.Transforms.Protocols.ResponsesBridge;
using Proxy.Transforms.Providers;
using Proxy.Transforms.Streaming;

namespace Proxy.Host.Pipeline;

/// <summary>
/// The body one attempt sends to its deployment, set as the request's <c>Body</c> (YARP refuses a transformer that
/// swaps the outgoing content): the chat body spliced for an OpenAI-compatible upstream (model, include_usage,
/// LiteLLM-only fields removed), translated for an Anthropic upstream, or the client's own body (model rewritten,
/// LiteLLM-only fields removed) for a deployment that speaks the client's protocol natively; a /vllm pass-through body
/// with only its model replaced; a multipart upload read again from its spool with only its model field replaced. A
/// wildcard group's deployment gets the model its pattern made of the requested one.
/// </summary>
internal static class UpstreamBody
{
    /// <returns>The error that ends this attempt when the deployment cannot serve the request; else null.</returns>
    /// <param name="owned">A buffer the caller disposes after the attempt (default when the body is forwarded as it is).</param>
    public static GatewayError? Set(HttpContext context, ProxyRequestState state, GatewayRequestContext request, Deployment deployment, out PooledBuffer owned)
    {
        owned = default;
        var endpoint = UpstreamAttempt.EndpointFor(request, deployment);
        if (request.PassThroughPath is null && deployment.UriFor(endpoint) is null)
        {
            return Unsupported(deployment, endpoint);
        }

        var model = state.WildcardSegments is { } segments
            ? WildcardGroups.Resolve(deployment.UpstreamModel, segments, request.RequestedModel ?? "")
            : deployment.UpstreamModel;
        if (state.Multipart is { } multipart)
        {
            context.Request.Body = multipart.OpenFor(model, out var length);
            context.Request.ContentLength = length;
            return null;
        }

        if (Build(state, request, deployment, model, out owned, out var forwarded) is { } error)
        {
            return error;
        }

        context.Request.Body = new MemoryStream(forwarded.Array, 0, forwarded.Length, writable: false);
        context.Request.ContentLength = forwarded.Length;
        return null;
    }

    private static GatewayError? Build(
        ProxyRequestState state, GatewayRequestContext request, Deployment deployment, string model, out PooledBuffer owned, out PooledBuffer forwarded)
    {
        owned = default;
        var endpoint = UpstreamAttempt.EndpointFor(request, deployment);
        if (request.Endpoint == OpenAiEndpoint.VllmPassThrough)
        {
            // A pass-through changes the model and nothing else (LiteLLM's members stay, no stream_options is added).
            if (!ModelSplice.IsIdentity(state.Scan, model))
            {
                owned = ModelSplice.Replace(state.Body.Span, state.Scan, model);
                forwarded = owned;
            }
            else
            {
                forwarded = state.Body;
            }

            return null;
        }

        if (endpoint is OpenAiEndpoint.ResponsesRetrieve or OpenAiEndpoint.ResponsesDelete or OpenAiEndpoint.ResponsesCancel or OpenAiEndpoint.ResponsesInputItems)
        {
            // An operation on a stored response: its (empty) body goes as sent; the path names the response.
            forwarded = state.Body;
            return null;
        }

        if (UpstreamAttempt.BridgesResponses(request, deployment))
        {
            return BridgeResponses(state, request, deployment, model, out owned, out forwarded);
        }

        if (endpoint == OpenAiEndpoint.Responses)
        {
            // stream_options is chat's; a Responses stream reports usage in its last event anyway.
            forwarded = Splice(state.Body, in state.Scan, model, forceIncludeUsage: false, out owned);
            if (state.UpstreamPreviousResponseId is { } upstreamId)
            {
                forwarded = ReplacePreviousResponseId(forwarded, upstreamId, ref owned);
            }

            return null;
        }

        if (UpstreamAttempt.IsNativeMessages(request, deployment))
        {
            forwarded = Splice(state.ClientBody, in state.ClientScan, model, forceIncludeUsage: false, out owned);
            return null;
        }

        if (UpstreamAttempt.TranslatesChat(request, deployment))
        {
            var translated = new ArrayPoolBufferWriter();
            try
            {
                if (ChatRequestToMessagesTranslator.Translate(state.Body.Span, model, translated) is { } error)
                {
                    forwarded = default;
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

        forwarded = Splice(state.Body, in state.Scan, model, request.ForceStreamUsage, out owned);
        return null;
    }

    // A Responses body for a chat-only deployment: translated to chat, and on to Messages for an Anthropic upstream.
    private static GatewayError? BridgeResponses(
        ProxyRequestState state, GatewayRequestContext request, Deployment deployment, string model, out PooledBuffer owned, out PooledBuffer forwarded)
    {
        owned = default;
        forwarded = default;
        var chat = new ArrayPoolBufferWriter();
        try
        {
            if (ResponsesRequestTranslator.Translate(state.Body.Span, model, chat) is { } invalid)
            {
                return invalid;
            }

            if (!UpstreamAttempt.TranslatesChat(request, deployment))
            {
                owned = chat.Detach();
                forwarded = owned;
                return null;
            }

            var messages = new ArrayPoolBufferWriter();
            try
            {
                if (ChatRequestToMessagesTranslator.Translate(chat.WrittenSpan, model, messages) is { } error)
                {
                    return error;
                }

                owned = messages.Detach();
                forwarded = owned;
                return null;
            }
            finally
            {
                messages.Dispose();
            }
        }
        finally
        {
            chat.Dispose();
        }
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
        OpenAiEndpoint.AnthropicMessages => "/v1/messages",
        _ => UpstreamPaths.Of(endpoint) is var (suffix, _) ? "/" + suffix : endpoint.ToString(),
    };
}
