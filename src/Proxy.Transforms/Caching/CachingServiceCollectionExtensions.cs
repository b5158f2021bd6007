using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Proxy.Abstractions;

namespace Proxy.Transforms.Caching;

public static class CachingServiceCollectionExtensions
{
    /// <summary>The response cache: lookup stage, store, counters. The host supplies an <see cref="ICacheOptionsSource"/>.</summary>
    public static IServiceCollection AddGatewayResponseCache(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<CacheStats>();
        services.TryAddSingleton<ResponseCache>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IGatewayRequestStage, ResponseCacheStage>());
        services.AddHostedService<ResponseCacheStarter>();
        return services;
    }
}
