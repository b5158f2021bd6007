namespace Proxy.Abstractions;

/// <summary>
/// Where each operation goes on an OpenAI-compatible deployment (Anthropic's and Azure's are the providers' own, see
/// the host's ProviderEndpoints). OpenAI's operations (and rerank, as LiteLLM's hosted_vllm rerank config
/// builds it) are relative to api_base, which for vLLM ends in /v1; vLLM serves its pooling and tokenizer endpoints at
/// the server root, api_base without its /v1.
/// </summary>
public static class UpstreamPaths
{
    /// <summary>The upstream path of <paramref name="endpoint"/> and whether it hangs off the server root; null for the pass-through and Anthropic's.</summary>
    public static (string Suffix, bool AtRoot)? Of(OpenAiEndpoint endpoint) => endpoint switch
    {
        OpenAiEndpoint.ChatCompletions => ("chat/completions", false),
        OpenAiEndpoint.Completions => ("completions", false),
        OpenAiEndpoint.Embeddings => ("embeddings", false),
        OpenAiEndpoint.Moderations => ("moderations", false),
        OpenAiEndpoint.Rerank => ("rerank", false),
        OpenAiEndpoint.AudioTranscriptions => ("audio/transcriptions", false),
        OpenAiEndpoint.AudioTranslations => ("audio/translations", false),
        OpenAiEndpoint.Score => ("score", true),
        OpenAiEndpoint.Tokenize => ("tokenize", true),
        OpenAiEndpoint.Detokenize => ("detokenize", true),
        OpenAiEndpoint.Pooling => ("pooling", true),
        OpenAiEndpoint.Classify => ("classify", true),
        _ => null,
    };

    /// <summary>api_base without a trailing /v1 (vLLM's server root), and without a trailing slash.</summary>
    public static string RootOf(string apiBase)
    {
        var trimmed = apiBase.TrimEnd('/');
        return trimmed.EndsWith("/v1", StringComparison.OrdinalIgnoreCase) ? trimmed[..^3] : trimmed;
    }

    /// <summary>The body is multipart/form-data, not JSON (OpenAI's audio uploads).</summary>
    public static bool IsMultipart(OpenAiEndpoint endpoint) => endpoint is OpenAiEndpoint.AudioTranscriptions or OpenAiEndpoint.AudioTranslations;

    /// <summary>LiteLLM's call_type for spend logs.</summary>
    public static string CallType(OpenAiEndpoint endpoint) => endpoint switch
    {
        OpenAiEndpoint.ChatCompletions => "acompletion",
        OpenAiEndpoint.Completions => "atext_completion",
        OpenAiEndpoint.Embeddings => "aembedding",
        OpenAiEndpoint.Moderations => "amoderation",
        OpenAiEndpoint.Rerank => "arerank",
        OpenAiEndpoint.AudioTranscriptions => "atranscription",
        OpenAiEndpoint.AudioTranslations => "atranscription",
        OpenAiEndpoint.AnthropicMessages or OpenAiEndpoint.AnthropicCountTokens => "anthropic_messages",
        OpenAiEndpoint.Responses => "aresponses",
        OpenAiEndpoint.ResponsesRetrieve => "aget_responses",
        OpenAiEndpoint.ResponsesDelete => "adelete_responses",
        OpenAiEndpoint.ResponsesCancel => "acancel_responses",
        OpenAiEndpoint.ResponsesInputItems => "alist_input_items",
        OpenAiEndpoint.VllmPassThrough => "pass_through_endpoint",
        // vLLM's own endpoints reach LiteLLM only through its /vllm pass-through.
        _ => "pass_through_endpoint",
    };
}
