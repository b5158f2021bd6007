namespace Proxy.Transforms.Usage;

/// <summary>Token counts an upstream reported for one response.</summary>
public readonly record struct TokenUsage(int PromptTokens, int CompletionTokens, int CachedPromptTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;

    /// <summary>The upstream sent prompt_tokens_details with cached_tokens (vLLM does with --enable-prompt-tokens-details).</summary>
    public bool ReportsCachedTokens { get; init; }
}
