namespace Proxy.Transforms.Caching.Semantic;

/// <summary>What to embed and with which model group; <paramref name="CallId"/> is the caller's, for tracing the embedding call back to it.</summary>
public readonly record struct EmbeddingRequest(string ModelGroup, string Text, string CallId, int? MaxInputTokens);
