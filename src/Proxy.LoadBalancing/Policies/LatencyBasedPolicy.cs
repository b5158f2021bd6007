using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Policies;

/// <summary>
/// LiteLLM's latency-based-routing: the deployment with the lowest recent average latency (ties go to the earliest),
/// or, with a lowest_latency_buffer, one picked at random among those within the buffer of it.
/// </summary>
internal sealed class LatencyBasedPolicy(IRouterOptionsSource options, IRandomSource random, TimeProvider time) : ILoadBalancingPolicy
{
    public string Name => PolicyNames.LatencyBased;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> available)
    {
        var count = available.Count;
        if (count <= 1)
        {
            return count == 0 ? null : available[0];
        }

        var strategy = options.RouterOptions.Strategy;
        var buffer = strategy.LowestLatencyBuffer;
        if (!(buffer > 0))
        {
            var lowest = new Fastest(time, strategy.LatencyTtl, [], []);
            var anyDeployment = DeploymentFilter.Visit(available, ref lowest);
            return DeploymentFilter.Result(available, lowest.Best, anyDeployment);
        }

        using var indices = new ScratchBuffer<int>(stackalloc int[DeploymentFilter.StackLength(count)], count);
        using var scores = new ScratchBuffer<double>(stackalloc double[DeploymentFilter.StackLength(count)], count);
        var visitor = new Fastest(time, strategy.LatencyTtl, indices.Span, scores.Span);
        var any = DeploymentFilter.Visit(available, ref visitor);
        if (visitor.Best < 0)
        {
            return DeploymentFilter.Result(available, -1, any);
        }

        var threshold = visitor.Lowest * (1 + buffer);
        var seen = scores.Span[..visitor.Count];
        var within = 0;
        foreach (var score in seen)
        {
            within += score <= threshold ? 1 : 0;
        }

        var chosen = Math.Min((int)(random.NextDouble() * within), within - 1);
        for (var i = 0; i < seen.Length; i++)
        {
            if (seen[i] <= threshold && chosen-- == 0)
            {
                return available[indices.Span[i]];
            }
        }

        // Unreachable: the lowest scorer is always within the threshold.
        return available[visitor.Best];
    }

    /// <summary>Tracks the lowest score and, when given room, records every candidate's score for the buffer.</summary>
    private ref struct Fastest(TimeProvider time, TimeSpan ttl, Span<int> indices, Span<double> scores) : ICandidateVisitor
    {
        private readonly Span<int> _indices = indices;
        private readonly Span<double> _scores = scores;
        private readonly long _now = time.GetTimestamp();

        public int Best { get; private set; } = -1;

        public double Lowest { get; private set; }

        public int Count { get; private set; }

        public void Visit(int index, Deployment deployment)
        {
            var score = Score(deployment.Stats);
            if (_indices.Length > 0)
            {
                _indices[Count] = index;
                _scores[Count] = score;
                Count++;
            }

            if (Best < 0 || score < Lowest)
            {
                Best = index;
                Lowest = score;
            }
        }

        private readonly double Score(DeploymentStats stats)
        {
            // LiteLLM sends traffic to deployments it has not measured (or whose samples expired) first, so they get measured.
            if (stats.LatencySampleCount == 0 || time.GetElapsedTime(stats.LatencyStamp, _now) > ttl)
            {
                return 0;
            }

            return stats.LatencyAverage;
        }
    }
}
