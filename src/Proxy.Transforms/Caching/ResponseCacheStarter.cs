using Microsoft.Extensions.Hosting;
using Proxy.Transforms.Caching.Semantic;

namespace Proxy.Transforms.Caching;

/// <summary>Connects the cache at start-up rather than on the first request.</summary>
internal sealed class ResponseCacheStarter(ResponseCache cache, SemanticCache semantic) : IHostedService
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(3);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await cache.StartAsync(Wait, cancellationToken);
        await semantic.StartAsync(Wait, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
