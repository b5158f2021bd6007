using Microsoft.Extensions.Time.Testing;
using Proxy.Abstractions;
using Proxy.LoadBalancing.Health;
using Proxy.LoadBalancing.Policies;
using Proxy.LoadBalancing.Tests.TestSupport;

namespace Proxy.LoadBalancing.Tests.Policies;

public class CostBasedPolicyTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void PicksTheLowestInputPlusOutputPrice()
    {
        var available = Destinations.For(
            Destinations.Deployment("a", inputCost: 1e-6, outputCost: 4e-6),
            Destinations.Deployment("b", inputCost: 3e-6, outputCost: 1e-6),
            Destinations.Deployment("c", inputCost: 0.5e-6, outputCost: 5e-6));

        Assert.Same(available[1], Policy().PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    [Fact]
    public void UnknownPrice_LosesToAnyRealisticPrice()
    {
        var available = Destinations.For(
            Destinations.Deployment("unknown"),
            Destinations.Deployment("priced", inputCost: 4.9, outputCost: 4.9));

        Assert.Same(available[1], Policy().PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    [Fact]
    public void OnlyOneSidePriced_IsNotUnknown()
    {
        var available = Destinations.For(
            Destinations.Deployment("input-only", inputCost: 9.0),
            Destinations.Deployment("free-output", outputCost: 6.0));

        Assert.Same(available[1], Policy().PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    [Fact]
    public void PriceTie_PicksTheLeastBusy()
    {
        var a = Destinations.Deployment("a", inputCost: 1e-6, outputCost: 1e-6);
        var b = Destinations.Deployment("b", inputCost: 1e-6, outputCost: 1e-6);
        var c = Destinations.Deployment("c", inputCost: 2e-6, outputCost: 1e-6);
        Start(a, 2);
        Start(b, 1);
        var available = Destinations.For(a, b, c);

        Assert.Same(available[1], Policy().PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    [Fact]
    public void PriceAndLoadTie_PicksTheEarliest()
    {
        var a = Destinations.Deployment("a", inputCost: 2e-6, outputCost: 1e-6);
        var b = Destinations.Deployment("b", inputCost: 1e-6, outputCost: 1e-6);
        var c = Destinations.Deployment("c", inputCost: 1e-6, outputCost: 1e-6);
        Start(a, 0);
        Start(b, 1);
        Start(c, 1);
        var available = Destinations.For(a, b, c);

        Assert.Same(available[1], Policy().PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    [Fact]
    public void UnknownPricesTie_PicksTheLeastBusy()
    {
        var a = Destinations.Deployment("a");
        var b = Destinations.Deployment("b");
        Start(a, 1);
        var available = Destinations.For(a, b);

        Assert.Same(available[1], Policy().PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    private static CostBasedPolicy Policy() => new();

    private void Start(Deployment deployment, int requests)
    {
        for (var i = 0; i < requests; i++)
        {
            deployment.Stats.RequestStarted(DeploymentStats.MinuteOf(_time));
        }
    }
}
