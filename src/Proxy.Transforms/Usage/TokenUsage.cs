namespace Proxy.Transforms.Usage;

/// <summary>Token counts an upstream reported for one response.</summary>
public readonly record struct TokenUsage(int PromptTokens, int CompletionTokens, int CachedPromptTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}
