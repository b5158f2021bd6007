using System.Text.Json;
using Proxy.Transforms.Caching;
using Proxy.Transforms.Caching.Semantic;

namespace Proxy.Host.Caching;

/// <summary>The cache's part of <c>/health/readiness</c>: LiteLLM's <c>cache</c> field, plus its state and counters.</summary>
internal static class CacheReadiness
{
    public static void Write(Utf8JsonWriter json, ResponseCache cache, SemanticCache semantic)
    {
        var (type, available) = cache.Status;
        if (type is null)
        {
            WriteSemantic(json, semantic);
            return;
        }

        json.WriteString("cache"u8, type);
        var stats = cache.Stats;
        json.WriteStartObject("cache_status"u8);
        json.WriteString("type"u8, type);
        // "disconnected" means requests are running uncached, not failing.
        json.WriteString("status"u8, available ? "connected"u8 : "disconnected"u8);
        json.WriteNumber("hits"u8, stats.Hits);
        json.WriteNumber("misses"u8, stats.Misses);
        json.WriteNumber("stores"u8, stats.Stores);
        json.WriteNumber("errors"u8, stats.Errors);
        json.WriteNumber("skipped_too_large"u8, stats.SkippedTooLarge);
        json.WriteNumber("evictions"u8, stats.Evictions);
        json.WriteEndObject();
    }

    // LiteLLM's "cache" is the type's name ("redis-semantic"); cache_status adds the semantic counters.
    private static void WriteSemantic(Utf8JsonWriter json, SemanticCache semantic)
    {
        var (type, available) = semantic.Status;
        if (type is null)
        {
            json.WriteNull("cache"u8);
            return;
        }

        json.WriteString("cache"u8, type);
        var stats = semantic.Stats;
        json.WriteStartObject("cache_status"u8);
        json.WriteString("type"u8, type);
        json.WriteString("status"u8, available ? "connected"u8 : "disconnected"u8);
        if (semantic.IndexedEntries is >= 0 and var entries)
        {
            json.WriteNumber("index_entries"u8, entries);
        }

        json.WriteNumber("hits"u8, stats.Hits);
        json.WriteNumber("misses"u8, stats.Misses);
        json.WriteNumber("stores"u8, stats.Stores);
        json.WriteNumber("errors"u8, stats.Errors);
        json.WriteNumber("embedding_failures"u8, stats.EmbeddingFailures);
        json.WriteNumber("skipped_too_large"u8, stats.SkippedTooLarge);
        json.WriteNumber("evictions"u8, stats.Evictions);
        json.WriteEndObject();
    }
}
