namespace Proxy.Abstractions;

/// <summary>The OpenAI operations the gateway proxies; each maps to one upstream path under api_base.</summary>
public enum OpenAiEndpoint
{
    ChatCompletions,
    Completions,
    Embeddings,
    Moderations,
}
