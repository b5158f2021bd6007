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

    public double? Ttl { get; init; }

    public IReadOnlyList<string> SupportedCallTypes { get; init; } = [];

    /// <summary><c>default_on</c> or <c>default_off</c> (opt-in per request).</summary>
    public string Mode { get; init; } = "default_on";

    public int? MaxConnections { get; init; }

    public double? SimilarityThreshold { get; init; }
}
