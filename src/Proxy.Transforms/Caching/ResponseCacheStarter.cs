using Microsoft.Extensions.Hosting;

namespace Proxy.Transforms.Caching;

/// <summary>Connects the cache at start-up rather than on the first request.</summary>
internal sealed class ResponseCacheStarter(ResponseCache cache) : IHostedService
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(3);

    public Task StartAsync(CancellationToken cancellationToken) => cache.StartAsync(Wait, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
