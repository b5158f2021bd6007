using Microsoft.Extensions.Time.Testing;
using Proxy.Abstractions;
using Proxy.LoadBalancing.Health;
using Proxy.LoadBalancing.Policies;
using Proxy.LoadBalancing.Tests.TestSupport;

namespace Proxy.LoadBalancing.Tests.Policies;

public class UsageBasedPolicyTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 12, 0, 10, TimeSpan.Zero));

    public static TheoryData<string> Names => new() { PolicyNames.UsageBased, PolicyNames.UsageBasedV2 };

    private long Minute => DeploymentStats.MinuteOf(_time);

    [Theory]
    [MemberData(nameof(Names))]
    public void PicksTheFewestTokensThisMinute(string name)
    {
        var a = Use(Destinations.Deployment("a"), tokens: 500, requests: 1);
        var b = Use(Destinations.Deployment("b"), tokens: 100, requests: 9);
        var c = Use(Destinations.Deployment("c"), tokens: 300, requests: 0);
        var available = Destinations.For(a, b, c);

        Assert.Same(available[1], PolicyFactory.Create(name, _time).PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void TokenTie_FewestRequestsThenEarliest(string name)
    {
        var a = Use(Destinations.Deployment("a"), tokens: 100, requests: 5);
        var b = Use(Destinations.Deployment("b"), tokens: 100, requests: 2);
        var c = Use(Destinations.Deployment("c"), tokens: 100, requests: 2);
        var d = Use(Destinations.Deployment("d"), tokens: 200, requests: 0);
        var available = Destinations.For(a, b, c, d);

        Assert.Same(available[1], PolicyFactory.Create(name, _time).PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void UsageOfAnEarlierMinute_IsForgotten(string name)
    {
        var a = Use(Destinations.Deployment("a"), tokens: 500, requests: 5);
        var available = Destinations.For(a, Destinations.Deployment("b"));
        _time.Advance(TimeSpan.FromMinutes(1));
        Use(((DeploymentMetadata)available[1].Model.Config.Metadata!).Deployment, tokens: 10, requests: 1);

        Assert.Same(available[0], PolicyFactory.Create(name, _time).PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    private Deployment Use(Deployment deployment, long tokens, int requests)
    {
        deployment.Stats.AddTokens(Minute, tokens);
        for (var i = 0; i < requests; i++)
        {
            deployment.Stats.RequestStarted(Minute);
        }

        return deployment;
    }
}
