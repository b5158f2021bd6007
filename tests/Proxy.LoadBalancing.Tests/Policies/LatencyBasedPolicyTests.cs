using Microsoft.Extensions.Time.Testing;
using Proxy.Abstractions;
using Proxy.LoadBalancing.Policies;
using Proxy.LoadBalancing.Tests.TestSupport;

namespace Proxy.LoadBalancing.Tests.Policies;

public class LatencyBasedPolicyTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void PicksTheLowestAverageLatency()
    {
        var available = Destinations.For(Measured("a", 2.0), Measured("b", 0.5), Measured("c", 1.0));

        Assert.Same(available[1], Policy(new FixedRandomSource()).PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    [Fact]
    public void AveragesAllSamples()
    {
        var a = Measured("a", 0.1);
        a.Stats.AddLatency(2.0, _time.GetTimestamp());
        var available = Destinations.For(a, Measured("b", 1.0));

        Assert.Same(available[1], Policy(new FixedRandomSource()).PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    [Fact]
    public void UnmeasuredDeployment_GoesFirst()
    {
        var available = Destinations.For(Measured("fast", 0.01), Destinations.Deployment("new"));

        Assert.Same(available[1], Policy(new FixedRandomSource()).PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    [Fact]
    public void Tie_PicksTheEarliest()
    {
        var available = Destinations.For(Measured("slow", 3.0), Measured("a", 1.0), Measured("b", 1.0));

        Assert.Same(available[1], Policy(new FixedRandomSource()).PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    [Fact]
    public void SamplesOlderThanTheTtl_CountAsUnmeasured()
    {
        var options = new RouterOptions { Strategy = new RoutingStrategyOptions { LatencyTtl = TimeSpan.FromMinutes(10) } };
        var stale = Measured("stale", 5.0);
        _time.Advance(TimeSpan.FromMinutes(9));
        var available = Destinations.For(stale, Measured("fresh", 0.5));
        var policy = Policy(new FixedRandomSource(), options);
        Assert.Same(available[1], policy.PickDestination(Destinations.Context(), Destinations.Cluster, available));

        _time.Advance(TimeSpan.FromMinutes(2));

        Assert.Same(available[0], policy.PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(0.34, 1)]
    [InlineData(0.999999, 3)]
    public void Buffer_PicksAtRandomAmongThoseWithinIt(double draw, int expected)
    {
        // Lowest 1.0, buffer 0.5: a, b (exactly 1.5) and d are within the buffer; c is not.
        var options = new RouterOptions { Strategy = new RoutingStrategyOptions { LowestLatencyBuffer = 0.5 } };
        var available = Destinations.For(Measured("a", 1.0), Measured("b", 1.5), Measured("c", 1.6), Measured("d", 1.2));
        var random = new FixedRandomSource(draw);

        Assert.Same(available[expected], Policy(random, options).PickDestination(Destinations.Context(), Destinations.Cluster, available));
        Assert.Equal(1, random.Calls);
    }

    [Fact]
    public void Buffer_NeverPicksOutsideIt()
    {
        var options = new RouterOptions { Strategy = new RoutingStrategyOptions { LowestLatencyBuffer = 0.1 } };
        var available = Destinations.For(Measured("slow", 2.0), Measured("fast", 1.0), Measured("close", 1.05));
        var policy = Policy(new SeededRandomSource(7), options);
        var picks = new int[available.Length];

        for (var i = 0; i < 1000; i++)
        {
            picks[Array.IndexOf(available, policy.PickDestination(Destinations.Context(), Destinations.Cluster, available))]++;
        }

        Assert.Equal(0, picks[0]);
        Assert.InRange(picks[1], 400, 600);
    }

    private LatencyBasedPolicy Policy(IRandomSource random, RouterOptions? options = null) =>
        new(new StaticRouterOptions(options ?? RouterOptions.Default), random, _time);

    private Deployment Measured(string id, double latency)
    {
        var deployment = Destinations.Deployment(id);
        deployment.Stats.AddLatency(latency, _time.GetTimestamp());
        return deployment;
    }
}
