using Proxy.Abstractions;

namespace Proxy.Host.Routing;

/// <summary>
/// What differs between providers at the transport level, worked out once per deployment when a snapshot is built:
/// the upstream URL of each operation, the header that carries the key, and the API the upstream speaks.
/// </summary>
internal static class ProviderEndpoints
{
    private static readonly (OpenAiEndpoint Endpoint, string Suffix)[] OpenAiPaths =
    [
        (OpenAiEndpoint.ChatCompletions, "chat/completions"),
        (OpenAiEndpoint.Completions, "completions"),
        (OpenAiEndpoint.Embeddings, "embeddings"),
        (OpenAiEndpoint.Moderations, "moderations"),
    ];

    public static int EndpointCount { get; } = Enum.GetValues<OpenAiEndpoint>().Length;

    public static UpstreamApi ApiOf(string provider) => provider == "anthropic" ? UpstreamApi.AnthropicMessages : UpstreamApi.OpenAi;

    /// <summary>Upstream URL per <see cref="OpenAiEndpoint"/> (null where the provider has no such operation).</summary>
    public static Uri?[] Build(string provider, string? apiBase, string upstreamModel, string? apiVersion, bool servesMessages, bool servesResponses = false)
    {
        var uris = new Uri?[EndpointCount];
        if (apiBase is null)
        {
            return uris;
        }

        switch (provider)
        {
            case "anthropic":
                // LiteLLM appends /v1/messages unless api_base already ends with it; chat is translated and sent there too.
                var root = MessagesRoot(apiBase);
                uris[(int)OpenAiEndpoint.ChatCompletions] = Absolute(root + "/v1/messages");
                uris[(int)OpenAiEndpoint.AnthropicMessages] = Absolute(root + "/v1/messages");
                uris[(int)OpenAiEndpoint.AnthropicCountTokens] = Absolute(root + "/v1/messages/count_tokens");
                return uris;
            case "azure":
                foreach (var (endpoint, suffix) in OpenAiPaths)
                {
                    uris[(int)endpoint] = Absolute(AzureUrl(apiBase, upstreamModel, apiVersion, suffix));
                }

                return uris;
            default:
                foreach (var (endpoint, suffix) in OpenAiPaths)
                {
                    uris[(int)endpoint] = Absolute(apiBase + "/" + suffix);
                }

                if (servesResponses)
                {
                    // Create and the operations on a stored response share the base; the request adds "/{id}[/action]".
                    var responses = Absolute(apiBase + "/responses");
                    foreach (var endpoint in (OpenAiEndpoint[])[OpenAiEndpoint.Responses, OpenAiEndpoint.ResponsesRetrieve, OpenAiEndpoint.ResponsesDelete,
                        OpenAiEndpoint.ResponsesCancel, OpenAiEndpoint.ResponsesInputItems])
                    {
                        uris[(int)endpoint] = responses;
                    }
                }

                if (servesMessages)
                {
                    // vLLM serves /v1/messages at its root, beside /v1/chat/completions (LiteLLM: api_base minus /v1).
                    var vllmRoot = apiBase.EndsWith("/v1", StringComparison.Ordinal) ? apiBase[..^3] : apiBase;
                    uris[(int)OpenAiEndpoint.AnthropicMessages] = Absolute(vllmRoot + "/v1/messages");
                    uris[(int)OpenAiEndpoint.AnthropicCountTokens] = Absolute(vllmRoot + "/v1/messages/count_tokens");
                }

                return uris;
        }
    }

    /// <summary>The header name and value that carry the deployment's key, or null without a key.</summary>
    public static (string Name, string Value)? Auth(string provider, string? apiBase, Secret? key)
    {
        if (key is not { IsEmpty: false } secret)
        {
            return null;
        }

        return provider switch
        {
            "anthropic" => ("x-api-key", secret.Value),
            "azure" => ("api-key", secret.Value),
            // Azure AI Foundry endpoints read api-key; other azure_ai bases (serverless MaaS) take a bearer token.
            "azure_ai" when apiBase is not null && IsAzureHost(apiBase) => ("api-key", secret.Value),
            _ => ("Authorization", "Bearer " + secret.Value),
        };
    }

    internal static string MessagesRoot(string apiBase)
    {
        var root = apiBase.TrimEnd('/');
        if (root.EndsWith("/v1/messages", StringComparison.Ordinal))
        {
            root = root[..^"/v1/messages".Length];
        }
        else if (root.EndsWith("/v1", StringComparison.Ordinal))
        {
            root = root[..^3];
        }

        return root;
    }

    // Azure OpenAI: /openai/deployments/{deployment}/{op}?api-version=...; the "v1" API (api_version v1, latest or
    // preview) has no deployment in the path and takes the deployment as the body's model.
    private static string AzureUrl(string apiBase, string deployment, string? apiVersion, string suffix)
    {
        var version = string.IsNullOrEmpty(apiVersion) ? Config.Yaml.ModelListBinder.AzureDefaultApiVersion : apiVersion;
        var root = apiBase.EndsWith("/openai", StringComparison.Ordinal) ? apiBase[..^"/openai".Length] : apiBase;
        if (version is "v1" or "latest")
        {
            return root + "/openai/v1/" + suffix;
        }

        if (version == "preview")
        {
            return root + "/openai/v1/" + suffix + "?api-version=preview";
        }

        return root + "/openai/deployments/" + Uri.EscapeDataString(deployment) + "/" + suffix + "?api-version=" + Uri.EscapeDataString(version);
    }

    private static bool IsAzureHost(string apiBase) =>
        Uri.TryCreate(apiBase, UriKind.Absolute, out var uri) && uri.Host.EndsWith(".azure.com", StringComparison.OrdinalIgnoreCase);

    private static Uri Absolute(string url) => new(url, UriKind.Absolute);
}
