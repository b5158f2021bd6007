using Microsoft.Extensions.Time.Testing;
using Proxy.Abstractions;
using Proxy.LoadBalancing.Fleet;

namespace Proxy.LoadBalancing.Tests.Fleet;

public class FleetLoadTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void NotScraped_IsTheGatewaysOwnInFlightCount()
    {
        var stats = new DeploymentStats();
        stats.RequestStarted(0);
        stats.RequestStarted(0);

        Assert.Equal(2, FleetLoad.Of(stats, _time.GetTimestamp()));
    }

    [Fact]
    public void FreshScrape_IsRunningPlusWaiting_PlusOwnRequestsSinceTheScrape()
    {
        var stats = new DeploymentStats();
        stats.RequestStarted(0);
        stats.Engine.Update(running: 6, waiting: 3, kvCacheUsage: 0.5, blockSize: 16, gpuBlocks: 100, inFlightAtScrape: 1, freshUntil: _time.GetTimestamp() + 1000);
        stats.RequestStarted(0);
        stats.RequestStarted(0);

        Assert.Equal(6 + 3 + 2, FleetLoad.Of(stats, _time.GetTimestamp()));
    }

    [Fact]
    public void StaleOrFailedScrape_FallsBackToOwnCounts()
    {
        var stats = new DeploymentStats();
        stats.RequestStarted(0);
        var now = _time.GetTimestamp();
        stats.Engine.Update(running: 6, waiting: 3, kvCacheUsage: 0.5, blockSize: 16, gpuBlocks: 100, inFlightAtScrape: 1, freshUntil: now + 10);

        Assert.Equal(1, FleetLoad.Of(stats, now + 10));
        stats.Engine.Update(running: 6, waiting: 3, kvCacheUsage: 0.5, blockSize: 16, gpuBlocks: 100, inFlightAtScrape: 1, freshUntil: now + 1000);
        stats.Engine.Failed();
        Assert.Equal(1, FleetLoad.Of(stats, now));
    }

    [Fact]
    public void LocalShare_IsTheSmoothedShareOfTheEnginesQueueThatCameThroughThisGateway()
    {
        var stats = new DeploymentStats();
        Assert.Equal(1, stats.Engine.LocalShare);

        // Four replicas: this one sent 2 of the engine's 8 requests, scrape after scrape.
        for (var i = 0; i < 40; i++)
        {
            stats.Engine.Update(running: 6, waiting: 2, kvCacheUsage: 0.5, blockSize: 16, gpuBlocks: 100, inFlightAtScrape: 2, freshUntil: _time.GetTimestamp() + 1000);
        }

        Assert.InRange(stats.Engine.LocalShare, 0.25, 0.27);

        // An idle engine says nothing about the share.
        stats.Engine.Update(running: 0, waiting: 0, kvCacheUsage: 0, blockSize: 16, gpuBlocks: 100, inFlightAtScrape: 0, freshUntil: _time.GetTimestamp() + 1000);
        Assert.InRange(stats.Engine.LocalShare, 0.25, 0.27);
    }
}
