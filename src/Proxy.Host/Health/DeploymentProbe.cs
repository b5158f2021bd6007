using Proxy.Abstractions;

namespace Proxy.Host.Health;

/// <summary>
/// Where and how to probe a deployment: with a model_info.mode, the smallest call of that mode (<see cref="ModeProbe"/>);
/// otherwise vLLM's <c>GET /health</c> at the server root (api_base without its /v1), and for other OpenAI-compatible
/// servers <c>GET {api_base}/models</c>, which they all serve. Always with the deployment's key.
/// </summary>
internal static class DeploymentProbe
{
    public static Uri? UriFor(Deployment deployment)
    {
        if (deployment.ApiBase is null)
        {
            return null;
        }

        if (ModeProbe.EndpointFor(deployment) is { } endpoint)
        {
            return deployment.UriFor(endpoint);
        }

        if (deployment.Provider == "hosted_vllm")
        {
            var root = deployment.ApiBase.EndsWith("/v1", StringComparison.Ordinal) ? deployment.ApiBase[..^3] : deployment.ApiBase;
            return new Uri(root.TrimEnd('/') + "/health", UriKind.Absolute);
        }

        return new Uri(deployment.ApiBase + "/models", UriKind.Absolute);
    }

    public static HttpRequestMessage CreateRequest(Deployment deployment, Uri uri)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri) { Version = System.Net.HttpVersion.Version11 };
        if (ModeProbe.EndpointFor(deployment) is { } endpoint)
        {
            request.Method = HttpMethod.Post;
            request.Content = ModeProbe.Body(deployment, endpoint);
        }

        if (deployment.AuthorizationHeader is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", deployment.AuthorizationHeader);
        }

        return request;
    }
}
