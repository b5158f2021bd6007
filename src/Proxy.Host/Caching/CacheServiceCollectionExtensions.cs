using Microsoft.AspNetCore.Hosting.Server;
using Proxy.Host.Routing;
using Proxy.Transforms.Caching;
using Proxy.Transforms.Caching.Semantic;

namespace Proxy.Host.Caching;

internal static class CacheServiceCollectionExtensions
{
    /// <summary>
    /// The response caches (exact, semantic), following <c>litellm_settings.cache</c> of the snapshot in force; the
    /// semantic cache embeds through this gateway's own pipeline (<see cref="LoopbackEmbedder"/>).
    /// </summary>
    public static IServiceCollection AddGatewayCache(this IServiceCollection services, Func<string, string?> getEnv, int metricsPort)
    {
        services.AddSingleton(provider => new SnapshotCacheOptionsSource(
            provider.GetRequiredService<GatewayState>(), getEnv, provider.GetRequiredService<ILogger<SnapshotCacheOptionsSource>>()));
        services.AddSingleton<ICacheOptionsSource>(provider => provider.GetRequiredService<SnapshotCacheOptionsSource>());
        services.AddSingleton<ISemanticCacheOptionsSource>(provider => provider.GetRequiredService<SnapshotCacheOptionsSource>());
        services.AddSingleton<InternalCallToken>();
        services.AddSingleton<ISemanticEmbedder>(provider => new LoopbackEmbedder(
            provider.GetRequiredService<IServer>(), provider.GetRequiredService<InternalCallToken>(), provider.GetRequiredService<IHttpClientFactory>(),
            metricsPort, provider.GetRequiredService<ILogger<LoopbackEmbedder>>()));
        // Its own connections, never through a proxy: they go to this process.
        services.AddHttpClient(LoopbackEmbedder.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) });
        services.AddGatewayResponseCache();
        return services;
    }
}
