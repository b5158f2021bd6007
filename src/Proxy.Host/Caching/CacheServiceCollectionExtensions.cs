using Proxy.Host.Routing;
using Proxy.Transforms.Caching;

namespace Proxy.Host.Caching;

internal static class CacheServiceCollectionExtensions
{
    /// <summary>The response cache, following <c>litellm_settings.cache</c> of the snapshot in force.</summary>
    public static IServiceCollection AddGatewayCache(this IServiceCollection services, Func<string, string?> getEnv)
    {
        services.AddSingleton<ICacheOptionsSource>(provider => new SnapshotCacheOptionsSource(
            provider.GetRequiredService<GatewayState>(), getEnv, provider.GetRequiredService<ILogger<SnapshotCacheOptionsSource>>()));
        services.AddGatewayResponseCache();
        return services;
    }
}
