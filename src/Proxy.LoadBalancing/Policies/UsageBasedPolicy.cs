using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Proxy.LoadBalancing.Health;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Policies;

/// <summary>
/// LiteLLM's usage-based-routing: the deployment that has used the fewest tokens this minute; ties go to the fewest
/// requests, then the earliest.
/// </summary>
internal sealed class UsageBasedPolicy(TimeProvider time) : ILoadBalancingPolicy
{
    public string Name => PolicyNames.UsageBased;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> available) =>
        PickLowestUsage(context, available, time);

    internal static DestinationState? PickLowestUsage(HttpContext context, IReadOnlyList<DestinationState> available, TimeProvider time)
    {
        if (available.Count <= 1)
        {
            return available.Count == 0 ? null : available[0];
        }

        var visitor = new LowestUsage(Proxy.Abstractions.DeploymentStats.MinuteOf(time));
        var anyDeployment = DeploymentFilter.Visit(available, ref visitor);
        return DeploymentFilter.Result(available, visitor.Best, anyDeployment);
    }

    private struct LowestUsage(long minute) : ICandidateVisitor
    {
        private long _fewestTokens;
        private int _fewestRequests;

        public int Best { get; private set; } = -1;


        public void Visit(int index, Deployment deployment)
        {
            // Tokens are what a tpm limit meters; requests break ties, so that idle deployments still take turns.
            var tokens = deployment.Stats.TokensInMinute(minute);
            if (Best >= 0 && tokens > _fewestTokens)
            {
                return;
            }

            var requests = deployment.Stats.RequestsInMinute(minute);
            if (Best < 0 || tokens < _fewestTokens || requests < _fewestRequests)
            {
                Best = index;
                _fewestTokens = tokens;
                _fewestRequests = requests;
            }
        }
    }
}
