namespace Proxy.Transforms.Caching;

/// <summary>
/// Who may be answered with an answer stored for another request (<c>cache_params.scope</c>, a gateway extension).
/// </summary>
public enum CacheScope
{
    /// <summary>Every caller with the same request shares one entry (LiteLLM's behaviour).</summary>
    Global,

    /// <summary>Each virtual key has its own entries (the master key and an open gateway share one scope).</summary>
    Key,

    /// <summary>The keys of one team share entries; a key without a team has its own, as with <see cref="Key"/>.</summary>
    Team,
}
