using Proxy.Abstractions;

namespace Proxy.Host.Health;

/// <summary>
/// Where and how to probe a deployment: vLLM serves <c>GET /health</c> at the server root (api_base without its /v1);
/// other OpenAI-compatible servers are probed with <c>GET {api_base}/models</c>, which they all serve, with the
/// deployment's key.
/// </summary>
internal static class DeploymentProbe
{
    public static Uri? UriFor(Deployment deployment)
    {
        if (deployment.ApiBase is null)
        {
            return null;
        }

        if (deployment.Provider == "hosted_vllm")
        {
            var root = deployment.ApiBase.EndsWith("/v1", StringComparison.Ordinal) ? deployment.ApiBase[..^3] : deployment.ApiBase;
            return new Uri(root.TrimEnd('/') + "/health", UriKind.Absolute);
        }

        return deployment.Provider switch
        {
            // Anthropic lists models at /v1/models; Azure OpenAI at /openai/models with an api-version.
            "anthropic" => new Uri(Routing.ProviderEndpoints.MessagesRoot(deployment.ApiBase) + "/v1/models", UriKind.Absolute),
            "azure" when deployment.UriFor(OpenAiEndpoint.ChatCompletions) is { } chat => AzureModels(deployment.ApiBase, chat),
            _ => new Uri(deployment.ApiBase + "/models", UriKind.Absolute),
        };
    }

    private static Uri AzureModels(string apiBase, Uri chat)
    {
        var root = apiBase.EndsWith("/openai", StringComparison.Ordinal) ? apiBase[..^"/openai".Length] : apiBase;
        return new Uri(root + "/openai/models" + chat.Query, UriKind.Absolute);
    }

    public static HttpRequestMessage CreateRequest(Deployment deployment, Uri uri)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri) { Version = System.Net.HttpVersion.Version11 };
        if (deployment.AuthorizationHeader is not null)
        {
            request.Headers.TryAddWithoutValidation(deployment.AuthHeaderName, deployment.AuthorizationHeader);
        }

        if (deployment.Api == UpstreamApi.AnthropicMessages)
        {
            request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        }

        return request;
    }
}
