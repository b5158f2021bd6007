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

    /// <summary>OpenAI's <c>POST /v1/responses</c>.</summary>
    Responses,

    /// <summary><c>GET /v1/responses/{id}</c>: a stored response, from the deployment that made it.</summary>
    ResponsesRetrieve,

    /// <summary><c>DELETE /v1/responses/{id}</c>.</summary>
    ResponsesDelete,

    /// <summary><c>POST /v1/responses/{id}/cancel</c>.</summary>
    ResponsesCancel,

    /// <summary><c>GET /v1/responses/{id}/input_items</c>.</summary>
    ResponsesInputItems,
}
