using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Policies;

/// <summary>LiteLLM's least-busy: the deployment with the fewest requests in flight.</summary>
internal sealed class LeastBusyPolicy(TimeProvider time) : ILoadBalancingPolicy
{
    public string Name => PolicyNames.LeastBusy;

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

        // The deployment's own counter, not YARP's ConcurrentRequestCount, so that retries and streams count where LiteLLM counts them.
        var best = 0;
        var fewest = candidates.DeploymentAt(0).Stats.InFlight;
        for (var i = 1; i < candidates.Count; i++)
        {
            var inFlight = candidates.DeploymentAt(i).Stats.InFlight;
            if (inFlight < fewest)
            {
                best = i;
                fewest = inFlight;
            }
        }

        return candidates[best];
    }
}
