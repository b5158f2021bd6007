using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Policies;

/// <summary>
/// LiteLLM's default, simple-shuffle: a random deployment, weighted by weight, else by rpm, else by tpm, else uniform.
/// </summary>
internal sealed class SimpleShufflePolicy(IRandomSource random, TimeProvider time) : ILoadBalancingPolicy
{
    private enum Basis
    {
        Uniform,
        Weight,
        Rpm,
        Tpm,
    }

    public string Name => PolicyNames.SimpleShuffle;

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

        var basis = BasisOf(candidates);
        var total = 0.0;
        if (basis != Basis.Uniform)
        {
            for (var i = 0; i < candidates.Count; i++)
            {
                total += WeightOf(candidates.DeploymentAt(i), basis);
            }
        }

        if (!(total > 0))
        {
            return candidates[Math.Min((int)(random.NextDouble() * candidates.Count), candidates.Count - 1)];
        }

        var point = random.NextDouble() * total;
        var last = 0;
        for (var i = 0; i < candidates.Count; i++)
        {
            var weight = WeightOf(candidates.DeploymentAt(i), basis);
            if (weight <= 0)
            {
                continue;
            }

            point -= weight;
            if (point < 0)
            {
                return candidates[i];
            }

            last = i;
        }

        // Rounding left the point at the very top of the range: it belongs to the last weighted deployment.
        return candidates[last];
    }

    private static Basis BasisOf(Candidates candidates)
    {
        // LiteLLM decides from the first deployment alone; any one of them deciding is our more forgiving reading, so a
        // weight missing on the first entry does not silently turn a weighted group into a uniform one.
        var basis = Basis.Uniform;
        for (var i = 0; i < candidates.Count; i++)
        {
            var deployment = candidates.DeploymentAt(i);
            if (deployment.Weight is not null)
            {
                return Basis.Weight;
            }

            if (deployment.Rpm is not null)
            {
                basis = Basis.Rpm;
            }
            else if (deployment.Tpm is not null && basis == Basis.Uniform)
            {
                basis = Basis.Tpm;
            }
        }

        return basis;
    }

    private static double WeightOf(Deployment deployment, Basis basis)
    {
        var value = basis switch
        {
            Basis.Weight => deployment.Weight ?? 0,
            Basis.Rpm => deployment.Rpm ?? 0,
            _ => deployment.Tpm ?? 0,
        };

        // A negative or NaN weight from the config is treated like a missing one.
        return value > 0 ? value : 0;
    }
}
