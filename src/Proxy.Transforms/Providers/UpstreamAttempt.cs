using Proxy.Abstractions;

namespace Proxy.Transforms.Providers;

/// <summary>
/// What one attempt sends to its deployment, decided from the request and the deployment alone (so the body builder
/// and the transformer agree without passing state): the client's own body when the deployment speaks the client's
/// protocol natively, else the pipeline's chat body, translated for the deployment's API.
/// </summary>
public static class UpstreamAttempt
{
    /// <summary>A Messages client and a deployment that serves <c>/v1/messages</c> itself (anthropic/, or vLLM with translation off).</summary>
    public static bool IsNativeMessages(GatewayRequestContext request, Deployment deployment) =>
        request.Protocol == ClientProtocol.AnthropicMessages && deployment.ServesAnthropicMessages;

    /// <summary>
    /// A Responses API request for a deployment that cannot serve it (anthropic/, azure/, azure_ai/, or
    /// model_info.supports_responses_api: false): it is bridged to chat, and the chat answer back to a Responses one.
    /// </summary>
    public static bool BridgesResponses(GatewayRequestContext request, Deployment deployment) =>
        request.Endpoint == OpenAiEndpoint.Responses && !deployment.ServesResponses;

    /// <summary>The upstream operation of this attempt.</summary>
    public static OpenAiEndpoint EndpointFor(GatewayRequestContext request, Deployment deployment)
    {
        if (IsNativeMessages(request, deployment))
        {
            return request.Endpoint == OpenAiEndpoint.AnthropicCountTokens ? OpenAiEndpoint.AnthropicCountTokens : OpenAiEndpoint.AnthropicMessages;
        }

        if (BridgesResponses(request, deployment))
        {
            return OpenAiEndpoint.ChatCompletions;
        }

        return request.Endpoint;
    }

    /// <summary>The chat body is translated to the deployment's API (Anthropic Messages) before it is sent.</summary>
    public static bool TranslatesChat(GatewayRequestContext request, Deployment deployment) =>
        deployment.Api == UpstreamApi.AnthropicMessages && !IsNativeMessages(request, deployment);
}
