using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Policies;

/// <summary>
/// LiteLLM's usage-based-routing-v2. It differs from v1 only in where LiteLLM keeps its counters (Redis, batched);
/// ours live in-process for both, so the pick is the same.
/// </summary>
internal sealed class UsageBasedV2Policy(TimeProvider time) : ILoadBalancingPolicy
{
    public string Name => PolicyNames.UsageBasedV2;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> available) =>
        UsageBasedPolicy.PickLowestUsage(context, available, time);
}
