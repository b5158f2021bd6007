using Proxy.Abstractions;

namespace Proxy.Transforms.Caching.Semantic;

/// <summary>
/// The semantic cache's settings, built once per config version from <c>cache_params</c> when its type is
/// <c>redis-semantic</c>, <c>qdrant-semantic</c> or <c>local-semantic</c>. What it shares with the exact cache (mode,
/// namespace, ttl, call types, the Redis address and timeout, size bounds) is in <see cref="Common"/>.
/// </summary>
public sealed record SemanticCacheOptions
{
    public const string DefaultIndexName = "litellm_semantic_cache_index";

    public required SemanticBackend Backend { get; init; }

    public required CacheOptions Common { get; init; }

    /// <summary>A stored answer is reused when the cosine similarity of the prompts is at least this (0-1).</summary>
    public required double SimilarityThreshold { get; init; }

    /// <summary>The model group of this gateway that embeds prompts (<c>redis_semantic_cache_embedding_model</c>).</summary>
    public required string EmbeddingModel { get; init; }

    /// <summary>Longest wait for the prompt's embedding (<c>semantic_cache_embedding_timeout</c>); past it the request goes upstream uncached.</summary>
    public TimeSpan EmbeddingTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>After an embedding failure or timeout, lookups skip the embedding for this long (requests go upstream without waiting).</summary>
    public TimeSpan EmbeddingBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Truncate prompts to this many tokens before embedding them (sent as vLLM's <c>truncate_prompt_tokens</c>).</summary>
    public int? EmbeddingMaxInputTokens { get; init; }

    /// <summary>Redis: prefix of the entries' keys and name of the FT index (<c>redis_semantic_cache_index_name</c>).</summary>
    public string IndexName { get; init; } = DefaultIndexName;

    public Uri? QdrantApiBase { get; init; }

    public Secret QdrantApiKey { get; init; }

    public string QdrantCollection { get; init; } = "";

    /// <summary><c>binary</c> (LiteLLM's default), <c>scalar</c> or <c>product</c>.</summary>
    public string QdrantQuantization { get; init; } = "binary";

    /// <summary>The collection's vector size when it has to be created; null: the size of the first embedding.</summary>
    public int? QdrantVectorSize { get; init; }

    /// <summary>LiteLLM's name of the type, for /cache/ping and readiness.</summary>
    public string TypeName => Backend switch
    {
        SemanticBackend.Redis => "redis-semantic",
        SemanticBackend.Qdrant => "qdrant-semantic",
        _ => "local-semantic",
    };

    /// <summary>What needs a new store when it changes (a reload that only changes the threshold or ttl keeps the entries).</summary>
    public string StoreIdentity => Backend switch
    {
        SemanticBackend.Redis => $"redis-semantic:{Common.StoreIdentity}:{IndexName}",
        SemanticBackend.Qdrant => $"qdrant-semantic:{QdrantApiBase}:{QdrantApiKey.Value}:{QdrantCollection}:{QdrantQuantization}:{QdrantVectorSize}",
        _ => $"local-semantic:{Common.MaxMemoryBytes}",
    };

    /// <summary>The key an entry is known by (its Redis key; <c>x-litellm-cache-key</c> of a hit; what /cache/delete takes).</summary>
    public string EntryKey(string entryId) => IndexName + ":" + entryId;
}
