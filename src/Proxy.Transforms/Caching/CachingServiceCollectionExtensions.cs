using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Proxy.Abstractions;
using Proxy.Transforms.Caching.Semantic;

namespace Proxy.Transforms.Caching;

public static class CachingServiceCollectionExtensions
{
    /// <summary>
    /// The response caches, exact and semantic: lookup stages, stores, counters. The host supplies an
    /// <see cref="ICacheOptionsSource"/> and an <see cref="ISemanticCacheOptionsSource"/> (at most one of them is on at a
    /// time) and, for the semantic cache, an <see cref="ISemanticEmbedder"/>.
    /// </summary>
    public static IServiceCollection AddGatewayResponseCache(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<CacheStats>();
        services.TryAddSingleton<ResponseCache>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IGatewayRequestStage, ResponseCacheStage>());
        services.TryAddSingleton<SemanticCacheStats>();
        services.TryAddSingleton<SemanticCache>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IGatewayRequestStage, SemanticCacheStage>());
        services.AddHttpClient(QdrantSemanticStore.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.AddHostedService<ResponseCacheStarter>();
        return services;
    }
}
