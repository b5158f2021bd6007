using Prometheus;
using Proxy.Transforms.Caching.Semantic;

namespace Proxy.Host.Observability;

/// <summary>
/// The semantic cache on /metrics, by cache type (<c>redis-semantic</c>, <c>qdrant-semantic</c>, <c>local-semantic</c>):
/// its events (hits, misses, embedding failures, ...), the similarity of the closest stored prompt per lookup (where
/// to set <c>similarity_threshold</c> is read off it), the embedding latency, and the entries this replica indexes.
/// LiteLLM's <c>litellm_cache_hits_metric_total</c> counts semantic hits too.
/// </summary>
internal sealed class SemanticCacheMetrics : ISemanticCacheMetrics
{
    private static readonly double[] SimilarityBuckets = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.975, 0.99, 1.0];
    private static readonly double[] EmbeddingBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Histogram _similarity;
    private readonly Histogram _embedding;

    public SemanticCacheMetrics(GatewayMetrics metrics, SemanticCacheStats stats, ISemanticCacheOptionsSource options)
    {
        var factory = metrics.Factory;
        _similarity = factory.CreateHistogram("gateway_semantic_cache_similarity",
            "Cosine similarity of the closest stored prompt, per semantic cache lookup that found one (hit or miss)",
            new HistogramConfiguration { LabelNames = ["cache_type"], Buckets = SimilarityBuckets });
        _embedding = factory.CreateHistogram("gateway_semantic_cache_embedding_seconds",
            "Seconds the semantic cache waited for a prompt's embedding (result: success, failure)",
            new HistogramConfiguration { LabelNames = ["cache_type", "result"], Buckets = EmbeddingBuckets });
        var events = factory.CreateCounter("gateway_semantic_cache_events_total",
            "Semantic cache events: hit, exact_text_hit (no embedding needed), miss, store, error (backend failed or timed out), "
            + "embedding_failure, embedding_skipped (backing off after a failure), skipped_too_large, eviction",
            ["cache_type", "event"]);
        metrics.Registry.AddBeforeCollectCallback(() =>
        {
            if (options.SemanticCurrent is not { } current)
            {
                return;
            }

            var type = current.TypeName;
            events.WithLabels(type, "hit").IncTo(stats.Hits);
            events.WithLabels(type, "exact_text_hit").IncTo(stats.ExactHits);
            events.WithLabels(type, "miss").IncTo(stats.Misses);
            events.WithLabels(type, "store").IncTo(stats.Stores);
            events.WithLabels(type, "error").IncTo(stats.Errors);
            events.WithLabels(type, "embedding_failure").IncTo(stats.EmbeddingFailures);
            events.WithLabels(type, "embedding_skipped").IncTo(stats.EmbeddingSkipped);
            events.WithLabels(type, "skipped_too_large").IncTo(stats.SkippedTooLarge);
            events.WithLabels(type, "eviction").IncTo(stats.Evictions);
        });
    }

    public void ObserveSimilarity(string cacheType, double similarity) => _similarity.WithLabels(cacheType).Observe(similarity);

    public void ObserveEmbedding(string cacheType, TimeSpan elapsed, bool succeeded) =>
        _embedding.WithLabels(cacheType, succeeded ? "success" : "failure").Observe(elapsed.TotalSeconds);
}
