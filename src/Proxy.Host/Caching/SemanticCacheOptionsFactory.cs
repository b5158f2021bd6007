using System.Globalization;
using System.Text;
using Proxy.Abstractions;
using Proxy.Host.Config;
using Proxy.Transforms.Caching;
using Proxy.Transforms.Caching.Semantic;

namespace Proxy.Host.Caching;

/// <summary>
/// Turns <c>cache_params</c> with <c>type: redis-semantic | qdrant-semantic | local-semantic</c> into
/// <see cref="SemanticCacheOptions"/>, with LiteLLM's defaults and environment fallbacks (REDIS_*, QDRANT_API_BASE or
/// QDRANT_URL, QDRANT_API_KEY).
/// </summary>
internal static class SemanticCacheOptionsFactory
{
    // LiteLLM's default embedding model name when none is configured.
    private const string DefaultEmbeddingModel = "text-embedding-ada-002";

    public static bool IsSemantic(string type) => type is "redis-semantic" or "qdrant-semantic" or "local-semantic";

    /// <summary>Null when the cache is off or not semantic; <paramref name="problem"/> says why a requested semantic cache cannot run.</summary>
    public static SemanticCacheOptions? Build(LitellmSettings settings, Func<string, string?> getEnv, out string? problem)
    {
        problem = null;
        var p = settings.CacheParams;
        if (!settings.Cache || !IsSemantic(p.Type))
        {
            return null;
        }

        if (p.SimilarityThreshold is not { } threshold || threshold is < 0 or > 1)
        {
            problem = $"cache_params.similarity_threshold (0-1) is required for type {p.Type}; the response cache is off";
            return null;
        }

        var backend = p.Type switch
        {
            "redis-semantic" => SemanticBackend.Redis,
            "qdrant-semantic" => SemanticBackend.Qdrant,
            _ => SemanticBackend.Local,
        };
        var (ttl, timeout) = backend switch
        {
            SemanticBackend.Redis => (p.Ttl ?? p.DefaultInRedisTtl, p.SocketTimeout ?? 0.1),
            SemanticBackend.Local => (p.Ttl ?? p.DefaultInMemoryTtl, p.SocketTimeout ?? 0.1),
            // Qdrant is usually another host and has no ttl of its own: a second for a search unless told otherwise.
            _ => (p.Ttl, p.SocketTimeout ?? 1.0),
        };
        var common = CacheOptionsFactory.BuildCommon(p, backend == SemanticBackend.Redis ? CacheBackend.Redis : CacheBackend.Local, ttl,
            TimeSpan.FromSeconds(timeout), getEnv, out problem);
        if (common is null)
        {
            return null;
        }

        var embeddingModel = (backend == SemanticBackend.Qdrant ? p.QdrantSemanticCacheEmbeddingModel : p.RedisSemanticCacheEmbeddingModel) ?? DefaultEmbeddingModel;
        var options = new SemanticCacheOptions
        {
            Backend = backend,
            Common = common,
            SimilarityThreshold = threshold,
            EmbeddingModel = embeddingModel,
            EmbeddingTimeout = TimeSpan.FromSeconds(p.SemanticCacheEmbeddingTimeout ?? 1.0),
            EmbeddingMaxInputTokens = p.SemanticCacheEmbeddingMaxInputTokens,
            IndexName = string.IsNullOrEmpty(p.RedisSemanticCacheIndexName) ? SemanticCacheOptions.DefaultIndexName : p.RedisSemanticCacheIndexName,
        };
        if (backend == SemanticBackend.Qdrant)
        {
            options = WithQdrant(options, p, getEnv, out problem);
            if (problem is not null)
            {
                return null;
            }
        }

        return options with { Common = common with { DisplayParams = Display(options, p) } };
    }

    /// <summary>Everything that matters, for telling a changed semantic cache config from an unchanged one.</summary>
    public static string Fingerprint(SemanticCacheOptions options)
    {
        var text = new StringBuilder(CacheOptionsFactory.Fingerprint(options.Common));
        text.Append('|').Append(options.StoreIdentity).Append('|').Append(options.SimilarityThreshold.ToString("R", CultureInfo.InvariantCulture))
            .Append('|').Append(options.EmbeddingModel).Append('|').Append(options.EmbeddingTimeout).Append('|').Append(options.EmbeddingMaxInputTokens);
        return text.ToString();
    }

    private static SemanticCacheOptions WithQdrant(SemanticCacheOptions options, CacheParams p, Func<string, string?> getEnv, out string? problem)
    {
        problem = null;
        var apiBase = p.QdrantApiBase;
        if (string.IsNullOrEmpty(apiBase))
        {
            apiBase = getEnv("QDRANT_API_BASE") is { Length: > 0 } fromBase ? fromBase : getEnv("QDRANT_URL");
        }

        if (string.IsNullOrEmpty(apiBase) || !Uri.TryCreate(apiBase.EndsWith('/') ? apiBase : apiBase + "/", UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https"))
        {
            problem = "cache_params.qdrant_api_base (or QDRANT_API_BASE / QDRANT_URL) must be Qdrant's http(s) URL for type qdrant-semantic; the response cache is off";
            return options;
        }

        var key = p.QdrantApiKey?.Value;
        if (string.IsNullOrEmpty(key))
        {
            key = getEnv("QDRANT_API_KEY");
        }

        return options with
        {
            QdrantApiBase = uri,
            QdrantApiKey = new Secret(key ?? ""),
            QdrantCollection = p.QdrantCollectionName ?? "",
            QdrantQuantization = p.QdrantQuantizationConfig ?? "binary",
            QdrantVectorSize = p.QdrantSemanticCacheVectorSize,
        };
    }

    // /cache/ping's litellm_cache_params: the common ones plus the semantic settings (never the Qdrant key).
    private static IReadOnlyList<KeyValuePair<string, string>> Display(SemanticCacheOptions options, CacheParams p)
    {
        var display = new List<KeyValuePair<string, string>>(options.Common.DisplayParams)
        {
            new("similarity_threshold", options.SimilarityThreshold.ToString(CultureInfo.InvariantCulture)),
            new(options.Backend == SemanticBackend.Qdrant ? "qdrant_semantic_cache_embedding_model" : "redis_semantic_cache_embedding_model", options.EmbeddingModel),
            new("semantic_cache_embedding_timeout", options.EmbeddingTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)),
            new("semantic_cache_scope", p.SemanticCacheScope ?? "key"),
        };
        if (options.Backend == SemanticBackend.Qdrant)
        {
            display.Add(new("qdrant_collection_name", options.QdrantCollection));
            display.Add(new("qdrant_quantization_config", options.QdrantQuantization));
        }
        else
        {
            display.Add(new("redis_semantic_cache_index_name", options.IndexName));
        }

        return display;
    }
}
