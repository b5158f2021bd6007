using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Proxy.LoadBalancing.Fleet;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Policies;

/// <summary>
/// LiteLLM's least-busy: the deployment with the fewest requests in flight; ties go to the earliest. With
/// router_settings.vllm_metrics_interval the count is the engine's running + waiting (see <see cref="FleetLoad"/>).
/// </summary>
internal sealed class LeastBusyPolicy(TimeProvider time) : ILoadBalancingPolicy
{
    public string Name => PolicyNames.LeastBusy;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> available)
    {
        if (available.Count <= 1)
        {
            return available.Count == 0 ? null : available[0];
        }

        var visitor = new FewestInFlight(time.GetTimestamp());
        var anyDeployment = DeploymentFilter.Visit(available, ref visitor);
        return DeploymentFilter.Result(available, visitor.Best, anyDeployment);
    }

    private struct FewestInFlight(long now) : ICandidateVisitor
    {
        private int _fewest;

        public int Best { get; private set; } = -1;


        public void Visit(int index, Deployment deployment)
        {
            // The deployment's own counter, not YARP's ConcurrentRequestCount, so that it counts where LiteLLM counts.
            var inFlight = FleetLoad.Of(deployment.Stats, now);
            if (Best < 0 || inFlight < _fewest)
            {
                Best = index;
                _fewest = inFlight;
            }
        }
    }
}
