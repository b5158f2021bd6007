namespace Proxy.Transforms.Caching.Semantic.Index;

/// <summary>The closest entry a search found and its cosine similarity.</summary>
internal readonly record struct IndexMatch(string EntryId, float Similarity);
