namespace Proxy.Transforms.Caching;

/// <summary>Where cached answers live (<c>cache_params.type</c>).</summary>
public enum CacheBackend
{
    /// <summary>This process's memory (LiteLLM's <c>local</c>).</summary>
    Local,

    /// <summary>A Redis server shared by every replica.</summary>
    Redis,
}
