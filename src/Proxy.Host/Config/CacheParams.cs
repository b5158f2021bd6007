using Proxy.Abstractions;

namespace Proxy.Host.Config;

/// <summary><c>litellm_settings.cache_params</c>.</summary>
internal sealed record CacheParams
{
    public string Type { get; init; } = "local";

    public string? Host { get; init; }

    public int? Port { get; init; }

    public Secret? Password { get; init; }

    public Secret? RedisUrl { get; init; }

    public string? Namespace { get; init; }

    /// <summary>Gateway extension: <c>global</c> (LiteLLM's behaviour, the default), <c>key</c> or <c>team</c>.</summary>
    public string Scope { get; init; } = "global";

    public double? Ttl { get; init; }

    /// <summary>Null when absent (every call type); an empty list turns caching of answers off, as in LiteLLM.</summary>
    public IReadOnlyList<string>? SupportedCallTypes { get; init; }

    /// <summary><c>default_on</c> or <c>default_off</c> (opt-in per request).</summary>
    public string Mode { get; init; } = "default_on";

    public int? MaxConnections { get; init; }

    public double? SimilarityThreshold { get; init; }

    /// <summary>LiteLLM's ttl for the local cache when <see cref="Ttl"/> is not set.</summary>
    public double? DefaultInMemoryTtl { get; init; }

    /// <summary>LiteLLM's ttl for the Redis cache when <see cref="Ttl"/> is not set.</summary>
    public double? DefaultInRedisTtl { get; init; }

    /// <summary>Redis database number (a redis-py keyword LiteLLM passes through).</summary>
    public int? Db { get; init; }

    /// <summary>Seconds to wait for Redis on the request path (redis-py's <c>socket_timeout</c>); the gateway defaults to 0.1.</summary>
    public double? SocketTimeout { get; init; }

    /// <summary>Gateway extension: bound of the local cache in KiB (default 256 MiB).</summary>
    public long? MaxMemoryKb { get; init; }

    /// <summary>Gateway extension: answers larger than this many KiB are not stored (default 1 MiB).</summary>
    public int? MaxItemKb { get; init; }
}
