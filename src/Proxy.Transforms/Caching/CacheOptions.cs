using Proxy.Abstractions;

namespace Proxy.Transforms.Caching;

/// <summary>
/// The response cache's settings, built once per config version from <c>litellm_settings.cache</c> and
/// <c>cache_params</c>. Null <see cref="ResponseCache"/> options mean the cache is off.
/// </summary>
public sealed record CacheOptions
{
    public required CacheBackend Backend { get; init; }

    /// <summary>LiteLLM's <c>default_off</c> mode: only requests with <c>cache: {"use-cache": true}</c> use the cache.</summary>
    public bool OptIn { get; init; }

    public string? Namespace { get; init; }

    /// <summary>Gateway extension (<c>cache_params.scope</c>): who shares stored answers. LiteLLM's cache is global.</summary>
    public CacheScope Scope { get; init; } = CacheScope.Global;

    /// <summary>Expiry of stored answers; null keeps them until evicted (Redis) or for <see cref="LocalDefaultTtl"/> (local).</summary>
    public TimeSpan? Ttl { get; init; }

    /// <summary>Endpoints whose answers are cached (<c>supported_call_types</c>).</summary>
    public IReadOnlySet<OpenAiEndpoint> Endpoints { get; init; } = AllEndpoints;

    public string RedisHost { get; init; } = "localhost";

    public int RedisPort { get; init; } = 6379;

    public string? RedisUser { get; init; }

    public Secret RedisPassword { get; init; }

    public bool RedisSsl { get; init; }

    public int RedisDatabase { get; init; }

    /// <summary>host:port for /cache/ping and logs (never the password).</summary>
    public string RedisEndpoint => $"{RedisHost}:{RedisPort}";

    /// <summary>Longest wait for Redis on the request path; past it the request goes upstream as if uncached.</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Answers larger than this are not stored.</summary>
    public int MaxItemBytes { get; init; } = 1024 * 1024;

    /// <summary>Bound of the local cache's memory (bytes of stored answers and keys).</summary>
    public long MaxMemoryBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>The cache_params as LiteLLM's /cache/ping prints them (string values; no secrets).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> DisplayParams { get; init; } = [];

    /// <summary>Longest ttl a config or a request may ask for (ten years); TimeSpan and Redis both hold it.</summary>
    public const double MaxTtlSeconds = 10 * 365 * 24 * 3600.0;

    // LiteLLM's InMemoryCache keeps entries 600 s unless told otherwise.
    public static readonly TimeSpan LocalDefaultTtl = TimeSpan.FromSeconds(600);

    public static readonly IReadOnlySet<OpenAiEndpoint> AllEndpoints =
        new HashSet<OpenAiEndpoint> { OpenAiEndpoint.ChatCompletions, OpenAiEndpoint.Completions, OpenAiEndpoint.Embeddings, OpenAiEndpoint.Responses };

    /// <summary>What needs a new store when it changes (a reload that only changes ttl or mode keeps the stored answers).</summary>
    public string StoreIdentity => Backend == CacheBackend.Local
        ? $"local:{MaxMemoryBytes}"
        : $"redis:{RedisHost}:{RedisPort}:{RedisUser}:{RedisPassword.Value}:{RedisSsl}:{RedisDatabase}:{OperationTimeout.TotalMilliseconds}";
}
