namespace Proxy.Abstractions;

/// <summary>The operations the gateway proxies; each maps to one upstream path under api_base.</summary>
public enum OpenAiEndpoint
{
    ChatCompletions,
    Completions,
    Embeddings,
    Moderations,

    /// <summary>Anthropic's <c>/v1/messages</c>, sent only to deployments that serve it natively.</summary>
    AnthropicMessages,

    /// <summary>Anthropic's <c>/v1/messages/count_tokens</c>.</summary>
    AnthropicCountTokens,
}
