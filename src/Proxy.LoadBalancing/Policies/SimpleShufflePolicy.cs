using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Policies;

/// <summary>
/// LiteLLM's default, simple-shuffle: a random deployment, weighted by weight, else by rpm, else by tpm, else uniform.
/// </summary>
internal sealed class SimpleShufflePolicy(IRandomSource random) : ILoadBalancingPolicy
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
        var count = available.Count;
        if (count <= 1)
        {
            return count == 0 ? null : available[0];
        }

        using var indices = new ScratchBuffer<int>(stackalloc int[DeploymentFilter.StackLength(count)], count);
        var visitor = new Totals(indices.Span);
        var anyDeployment = DeploymentFilter.Visit(available, ref visitor);
        var candidates = indices.Span[..visitor.Count];
        if (candidates.Length <= 1)
        {
            return DeploymentFilter.Result(available, candidates.Length == 0 ? -1 : candidates[0], anyDeployment);
        }

        // LiteLLM decides the basis from the first deployment alone; any deployment deciding it is our more forgiving
        // reading, so that a weight missing on the first entry does not silently turn a weighted group uniform.
        var (basis, total) = visitor.AnyWeight ? (Basis.Weight, visitor.WeightTotal)
            : visitor.AnyRpm ? (Basis.Rpm, visitor.RpmTotal)
            : visitor.AnyTpm ? (Basis.Tpm, visitor.TpmTotal)
            : (Basis.Uniform, 0.0);
        if (!(total > 0))
        {
            return available[candidates[Math.Min((int)(random.NextDouble() * candidates.Length), candidates.Length - 1)]];
        }

        var point = random.NextDouble() * total;
        var last = candidates[0];
        foreach (var index in candidates)
        {
            var weight = WeightOf(DeploymentFilter.DeploymentAt(available, index), basis);
            if (weight <= 0)
            {
                continue;
            }

            point -= weight;
            if (point < 0)
            {
                return available[index];
            }

            last = index;
        }

        // Rounding left the point at the very top of the range: it belongs to the last weighted deployment.
        return available[last];
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

    /// <summary>Collects the candidates and, in the same pass, the totals of each basis a shuffle may weigh by.</summary>
    private ref struct Totals(Span<int> indices) : ICandidateVisitor
    {
        private readonly Span<int> _indices = indices;

        public int Count { get; private set; }

        public bool AnyWeight { get; private set; }

        public bool AnyRpm { get; private set; }

        public bool AnyTpm { get; private set; }

        public double WeightTotal { get; private set; }

        public double RpmTotal { get; private set; }

        public double TpmTotal { get; private set; }


        public void Visit(int index, Deployment deployment)
        {
            _indices[Count++] = index;
            AnyWeight |= deployment.Weight is not null;
            AnyRpm |= deployment.Rpm is not null;
            AnyTpm |= deployment.Tpm is not null;
            WeightTotal += WeightOf(deployment, Basis.Weight);
            RpmTotal += WeightOf(deployment, Basis.Rpm);
            TpmTotal += WeightOf(deployment, Basis.Tpm);
        }
    }
}
