namespace Proxy.Transforms.Caching;

/// <summary>The cache settings of the config version in force; null when <c>litellm_settings.cache</c> is off.</summary>
public interface ICacheOptionsSource
{
    /// <summary>Must return the same instance for as long as the settings are unchanged (compared by reference per request).</summary>
    CacheOptions? Current { get; }
}
