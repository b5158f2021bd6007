using System.Runtime.CompilerServices;
using Proxy.Abstractions;

namespace Proxy.LoadBalancing.Fleet;

/// <summary>
/// Each deployment's <see cref="DeploymentCacheState"/>, keyed by its <see cref="DeploymentStats"/> (one instance per
/// deployment id, kept across reloads), as YARP keys round-robin counters by ClusterState: no lock, no global table to clean.
/// </summary>
internal sealed class PrefixCacheStates
{
    private readonly ConditionalWeakTable<DeploymentStats, DeploymentCacheState> _states = [];

    public DeploymentCacheState For(Deployment deployment) =>
        _states.TryGetValue(deployment.Stats, out var state) ? state : Create(deployment);

    private DeploymentCacheState Create(Deployment deployment) =>
        _states.GetValue(deployment.Stats, _ => new DeploymentCacheState(deployment.Id));
}
