using Proxy.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Proxy.LoadBalancing.Health;
using Proxy.LoadBalancing.Policies;
using Proxy.LoadBalancing.Tests.TestSupport;

namespace Proxy.LoadBalancing.Tests.Policies;

public class LeastBusyPolicyTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void PicksTheDeploymentWithFewestRequestsInFlight()
    {
        var deployments = new[] { Destinations.Deployment("a"), Destinations.Deployment("b"), Destinations.Deployment("c") };
        Start(deployments[0], 3);
        Start(deployments[1], 2);
        Start(deployments[2], 1);
        var available = Destinations.For(deployments);

        Assert.Same(available[2], new LeastBusyPolicy(_time).PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    [Fact]
    public void Tie_PicksTheEarliest()
    {
        var deployments = new[] { Destinations.Deployment("a"), Destinations.Deployment("b"), Destinations.Deployment("c") };
        Start(deployments[0], 2);
        Start(deployments[1], 1);
        Start(deployments[2], 1);
        var available = Destinations.For(deployments);

        Assert.Same(available[1], new LeastBusyPolicy(_time).PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    [Fact]
    public void FinishedRequests_NoLongerCount()
    {
        var deployments = new[] { Destinations.Deployment("a"), Destinations.Deployment("b") };
        Start(deployments[0], 2);
        Start(deployments[1], 1);
        deployments[0].Stats.RequestFinished();
        deployments[0].Stats.RequestFinished();
        var available = Destinations.For(deployments);

        Assert.Same(available[0], new LeastBusyPolicy(_time).PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    private void Start(Abstractions.Deployment deployment, int requests)
    {
        for (var i = 0; i < requests; i++)
        {
            deployment.Stats.RequestStarted(DeploymentStats.MinuteOf(_time));
        }
    }
}
