namespace Proxy.Transforms.Caching.Semantic;

/// <summary>The semantic cache's distributions, for the host's metrics exporter (counters are in <see cref="SemanticCacheStats"/>).</summary>
public interface ISemanticCacheMetrics
{
    /// <summary>The similarity of the closest stored prompt, for every lookup that found a candidate (hit or not).</summary>
    void ObserveSimilarity(string cacheType, double similarity);

    /// <summary>How long an embedding took (or how long was waited for it before giving up).</summary>
    void ObserveEmbedding(string cacheType, TimeSpan elapsed, bool succeeded);
}
