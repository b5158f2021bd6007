namespace Proxy.Transforms.Caching.Semantic.Index;

/// <summary>One vector for the index: the cache entry it stands for, its scope, and when it expires (unix ms; long.MaxValue: never).</summary>
internal readonly record struct IndexedEntry(string EntryId, string Scope, float[] Vector, long ExpiresAtMs);
