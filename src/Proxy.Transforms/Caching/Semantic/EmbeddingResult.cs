namespace Proxy.Transforms.Caching.Semantic;

/// <summary>An embedding vector, or why there is none.</summary>
public readonly record struct EmbeddingResult(float[]? Vector, string? Error)
{
    public static EmbeddingResult Failed(string error) => new(null, error);
}
