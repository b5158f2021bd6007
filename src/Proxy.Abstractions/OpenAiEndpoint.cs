namespace Proxy.Abstractions;

/// <summary>
/// The operations the gateway proxies to model groups; each maps to one upstream path of a deployment (see
/// <see cref="UpstreamPaths"/>). The body's (or form's) <c>model</c> picks the group for every one of them.
/// </summary>
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

    /// <summary>Cohere/Jina-shaped rerank (/rerank, /v1/rerank, /v2/rerank), sent to {api_base}/rerank as LiteLLM does.</summary>
    Rerank,

    /// <summary>OpenAI's multipart /v1/audio/transcriptions.</summary>
    AudioTranscriptions,

    /// <summary>OpenAI's multipart /v1/audio/translations.</summary>
    AudioTranslations,

    /// <summary>vLLM's /score (text_1 against text_2), at the server root.</summary>
    Score,

    /// <summary>vLLM's /tokenize, at the server root.</summary>
    Tokenize,

    /// <summary>vLLM's /detokenize, at the server root.</summary>
    Detokenize,

    /// <summary>vLLM's /pooling, at the server root.</summary>
    Pooling,

    /// <summary>vLLM's /classify, at the server root.</summary>
    Classify,

    /// <summary>LiteLLM's model-routed /vllm/{path}: the path goes to the deployment's server root as it came.</summary>
    VllmPassThrough,
}
