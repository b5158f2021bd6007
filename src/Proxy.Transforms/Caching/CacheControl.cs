using System.Diagnostics.CodeAnalysis;

namespace Proxy.Transforms.Caching;

/// <summary>
/// A request's own cache controls: the body's <c>cache: {...}</c> (LiteLLM) or the <c>Cache-Control</c> header
/// (a gateway extension). A mutable struct filled in place while the key is computed.
/// </summary>
[SuppressMessage("Design", "CA1051:Do not declare visible instance fields", Justification = "Filled in place on the hot path.")]
[SuppressMessage("Performance", "CA1815:Override equals and operator equals on value types", Justification = "Never compared.")]
public struct CacheControl
{
    /// <summary>Skip the lookup (the answer is still stored).</summary>
    public bool NoCache;

    /// <summary>Do not store the answer.</summary>
    public bool NoStore;

    /// <summary>Opt in when the cache is <c>default_off</c>.</summary>
    public bool UseCache;

    /// <summary>Expiry for the stored answer, seconds.</summary>
    public double? Ttl;

    /// <summary>Accept only entries younger than this, seconds (<c>s-maxage</c>).</summary>
    public double? MaxAge;

    /// <summary>Per-request namespace (key prefix).</summary>
    public string? Namespace;

    /// <summary>The body carried a <c>cache</c> object (then the header is ignored).</summary>
    public bool FromBody;
}
