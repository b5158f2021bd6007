using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Policies;

/// <summary>
/// LiteLLM's latency-based-routing: the deployment with the lowest recent average latency, or one picked at random
/// among those within lowest_latency_buffer of it.
/// </summary>
internal sealed class LatencyBasedPolicy(IRouterOptionsSource options, IRandomSource random, TimeProvider time) : ILoadBalancingPolicy
{
    public string Name => PolicyNames.LatencyBased;

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

        var strategy = options.RouterOptions.Strategy;
        var now = time.GetTimestamp();
        var best = 0;
        var lowest = Score(candidates.DeploymentAt(0).Stats, strategy.LatencyTtl, now);
        for (var i = 1; i < candidates.Count; i++)
        {
            var score = Score(candidates.DeploymentAt(i).Stats, strategy.LatencyTtl, now);
            if (score < lowest)
            {
                best = i;
                lowest = score;
            }
        }

        var buffer = strategy.LowestLatencyBuffer;
        return buffer > 0 ? PickWithinBuffer(candidates, lowest * (1 + buffer), strategy.LatencyTtl, now) : candidates[best];
    }

    private DestinationState PickWithinBuffer(Candidates candidates, double threshold, TimeSpan ttl, long now)
    {
        var within = 0;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (Score(candidates.DeploymentAt(i).Stats, ttl, now) <= threshold)
            {
                within++;
            }
        }

        var chosen = Math.Min((int)(random.NextDouble() * within), within - 1);
        for (var i = 0; i < candidates.Count; i++)
        {
            if (Score(candidates.DeploymentAt(i).Stats, ttl, now) <= threshold && chosen-- == 0)
            {
                return candidates[i];
            }
        }

        // Unreachable: the lowest scorer is always within the threshold.
        return candidates[0];
    }

    private double Score(DeploymentStats stats, TimeSpan ttl, long now)
    {
        // LiteLLM sends traffic to deployments it has not measured (or whose samples expired) first, so they get measured.
        if (stats.LatencySampleCount == 0 || time.GetElapsedTime(stats.LatencyStamp, now) > ttl)
        {
            return 0;
        }

        return stats.LatencyAverage;
    }
}
