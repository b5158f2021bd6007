using Proxy.Abstractions;
using Microsoft.AspNetCore.Http;
using Proxy.LoadBalancing.Health;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Policies;

/// <summary>LiteLLM's usage-based-routing: the deployment that has used the fewest tokens this minute.</summary>
internal sealed class UsageBasedPolicy(TimeProvider time) : ILoadBalancingPolicy
{
    public string Name => PolicyNames.UsageBased;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> available) =>
        PickLowestUsage(context, available, time);

    internal static DestinationState? PickLowestUsage(HttpContext context, IReadOnlyList<DestinationState> available, TimeProvider time)
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

        // Tokens are what a tpm limit meters; requests break ties, so that idle deployments still take turns.
        var minute = DeploymentStats.MinuteOf(time);
        var best = 0;
        var bestStats = candidates.DeploymentAt(0).Stats;
        var fewestTokens = bestStats.TokensInMinute(minute);
        var fewestRequests = bestStats.RequestsInMinute(minute);
        for (var i = 1; i < candidates.Count; i++)
        {
            var stats = candidates.DeploymentAt(i).Stats;
            var tokens = stats.TokensInMinute(minute);
            if (tokens > fewestTokens)
            {
                continue;
            }

            var requests = stats.RequestsInMinute(minute);
            if (tokens < fewestTokens || requests < fewestRequests)
            {
                best = i;
                fewestTokens = tokens;
                fewestRequests = requests;
            }
        }

        return candidates[best];
    }
}
