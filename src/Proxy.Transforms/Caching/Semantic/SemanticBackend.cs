namespace Proxy.Transforms.Caching.Semantic;

/// <summary>Where the semantic cache keeps its entries and searches their vectors (<c>cache_params.type</c>).</summary>
public enum SemanticBackend
{
    /// <summary><c>redis-semantic</c>: entries and vectors in Redis; FT.SEARCH where the server has vector search, else an in-process index per replica.</summary>
    Redis,

    /// <summary><c>qdrant-semantic</c>: a Qdrant collection through its REST API.</summary>
    Qdrant,

    /// <summary><c>local-semantic</c> (gateway only): this process's memory, no Redis.</summary>
    Local,
}
