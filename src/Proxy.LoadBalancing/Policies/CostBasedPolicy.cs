using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Policies;

/// <summary>
/// LiteLLM's cost-based-routing: the deployment with the lowest input + output price per token; ties go to the least
/// busy, then the earliest.
/// </summary>
internal sealed class CostBasedPolicy : ILoadBalancingPolicy
{
    // LiteLLM prices a deployment it knows nothing about at 5.0 per token each way, so any priced deployment wins.
    private const double UnknownCostPerToken = 5.0;

    public string Name => PolicyNames.CostBased;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> available)
    {
        if (available.Count <= 1)
        {
            return available.Count == 0 ? null : available[0];
        }

        var visitor = new Cheapest();
        var anyDeployment = DeploymentFilter.Visit(available, ref visitor);
        return DeploymentFilter.Result(available, visitor.Best, anyDeployment);
    }

    private static double Cost(Deployment deployment)
    {
        if (deployment.InputCostPerToken == 0 && deployment.OutputCostPerToken == 0)
        {
            return UnknownCostPerToken + UnknownCostPerToken;
        }

        return deployment.InputCostPerToken + deployment.OutputCostPerToken;
    }

    private struct Cheapest() : ICandidateVisitor
    {
        private double _lowestCost;
        private int _fewestInFlight;

        public int Best { get; private set; } = -1;


        public void Visit(int index, Deployment deployment)
        {
            var cost = Cost(deployment);
            if (Best >= 0 && cost > _lowestCost)
            {
                return;
            }

            var inFlight = deployment.Stats.InFlight;
            if (Best < 0 || cost < _lowestCost || inFlight < _fewestInFlight)
            {
                Best = index;
                _lowestCost = cost;
                _fewestInFlight = inFlight;
            }
        }
    }
}
