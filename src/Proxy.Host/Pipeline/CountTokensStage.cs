using Microsoft.AspNetCore.Http.Features;
using Proxy.Abstractions;
using Proxy.Transforms.Providers;
using Proxy.Transforms.Usage;

namespace Proxy.Host.Pipeline;

/// <summary>
/// Answers Anthropic's <c>/v1/messages/count_tokens</c> after key checks (order 150): with the tokenizer the
/// pre-call checks use, over the translated chat body (<c>{"input_tokens": N}</c>); a group whose deployments all serve
/// Messages natively is asked instead (the request goes on to the router, and its own count comes back).
/// </summary>
internal sealed class CountTokensStage(PromptTokenCounter tokens) : IGatewayRequestStage
{
    public int Order => 150;

    public ValueTask<bool> InvokeAsync(HttpContext context, GatewayRequestContext request, ReadOnlyMemory<byte> body)
    {
        if (request.Endpoint != OpenAiEndpoint.AnthropicCountTokens)
        {
            return ValueTask.FromResult(false);
        }

        var state = context.Features.GetRequiredFeature<ProxyRequestState>();
        if (AllNative(state, request))
        {
            return ValueTask.FromResult(false);
        }

        return WriteAsync(context, tokens.CountPromptTokens(body.Span));
    }

    private static bool AllNative(ProxyRequestState state, GatewayRequestContext request)
    {
        var deployments = state.Group.Deployments;
        foreach (var route in deployments)
        {
            if (!UpstreamAttempt.IsNativeMessages(request, route.Deployment) || route.Deployment.MockResponse is not null)
            {
                return false;
            }
        }

        return deployments.Count > 0;
    }

    private static async ValueTask<bool> WriteAsync(HttpContext context, int inputTokens)
    {
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        using (var json = new System.Text.Json.Utf8JsonWriter(response.BodyWriter))
        {
            json.WriteStartObject();
            json.WriteNumber("input_tokens"u8, inputTokens);
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted);
        return true;
    }
}
