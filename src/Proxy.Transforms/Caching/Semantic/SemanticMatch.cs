namespace Proxy.Transforms.Caching.Semantic;

/// <summary>The closest stored prompt of a scope: its entry id, cosine similarity, and the stored entry when it is similar enough.</summary>
internal readonly record struct SemanticMatch(string EntryId, double Similarity, ReadOnlyMemory<byte>? Entry);
