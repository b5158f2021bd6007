namespace Proxy.Transforms.Caching.Semantic;

/// <summary>The semantic cache settings of the config version in force; null when the cache type is not a semantic one.</summary>
public interface ISemanticCacheOptionsSource
{
    /// <summary>Must return the same instance for as long as the settings are unchanged (compared by reference per request).</summary>
    SemanticCacheOptions? SemanticCurrent { get; }
}
