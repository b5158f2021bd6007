namespace Proxy.Transforms.Caching.Semantic;

/// <summary>An answer to store: its id and scope, the prompt text and its vector, the <see cref="CacheEntry"/> bytes, and its ttl.</summary>
internal sealed record SemanticEntry(string EntryId, string Scope, string Prompt, float[] Vector, byte[] Entry, TimeSpan? Ttl);
