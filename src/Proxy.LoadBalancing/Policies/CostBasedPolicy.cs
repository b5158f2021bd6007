using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Policies;

/// <summary>LiteLLM's cost-based-routing: the deployment with the lowest input + output price per token.</summary>
internal sealed class CostBasedPolicy(TimeProvider time) : ILoadBalancingPolicy
{
    // LiteLLM prices a deployment it knows nothing about at 5.0 per token each way, so any priced deployment wins.
    private const double UnknownCostPerToken = 5.0;

    public string Name => PolicyNames.CostBased;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> available)
    {
        if (available.Count <= 1)
        {
            return available.Count == 0 ? null : DeploymentFilter.Single(context, available[0], time);
        }

        using var candidates = DeploymentFilter.Select(context, available, time, stackalloc int[DeploymentFilter.StackLength(available.Count)]);
        if (candidates.Count <= 1)
        {
            return candidates.Count == 0 ? candidates.Fallback : candidates[0];
        }

        var best = 0;
        var first = candidates.DeploymentAt(0);
        var lowestCost = Cost(first);
        var fewestInFlight = first.Stats.InFlight;
        for (var i = 1; i < candidates.Count; i++)
        {
            var deployment = candidates.DeploymentAt(i);
            var cost = Cost(deployment);
            if (cost > lowestCost)
            {
                continue;
            }

            var inFlight = deployment.Stats.InFlight;
            if (cost < lowestCost || inFlight < fewestInFlight)
            {
                best = i;
                lowestCost = cost;
                fewestInFlight = inFlight;
            }
        }

        return candidates[best];
    }

    private static double Cost(Deployment deployment)
    {
        if (deployment.InputCostPerToken == 0 && deployment.OutputCostPerToken == 0)
        {
            return UnknownCostPerToken + UnknownCostPerToken;
        }

        return deployment.InputCostPerToken + deployment.OutputCostPerToken;
    }
}
