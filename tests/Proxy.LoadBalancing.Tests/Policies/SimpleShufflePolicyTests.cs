using Microsoft.Extensions.Time.Testing;
using Proxy.Abstractions;
using Proxy.LoadBalancing.Health;
using Proxy.LoadBalancing.Policies;
using Proxy.LoadBalancing.Tests.TestSupport;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Tests.Policies;

public class SimpleShufflePolicyTests
{
    private const int Picks = 10_000;
    private const double Tolerance = 0.02;

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Weights_SpreadPicksInProportion()
    {
        var available = Destinations.For(
            Destinations.Deployment("a", weight: 0.5),
            Destinations.Deployment("b", weight: 0.3),
            Destinations.Deployment("c", weight: 0.2));

        var shares = Shares(new SimpleShufflePolicy(new SeededRandomSource(1)), available);

        Assert.InRange(shares[0], 0.5 - Tolerance, 0.5 + Tolerance);
        Assert.InRange(shares[1], 0.3 - Tolerance, 0.3 + Tolerance);
        Assert.InRange(shares[2], 0.2 - Tolerance, 0.2 + Tolerance);
    }

    [Fact]
    public void NoWeights_RpmSpreadsPicksInProportion()
    {
        var available = Destinations.For(
            Destinations.Deployment("a", rpm: 100, tpm: 900_000),
            Destinations.Deployment("b", rpm: 300, tpm: 100_000));

        var shares = Shares(new SimpleShufflePolicy(new SeededRandomSource(2)), available);

        Assert.InRange(shares[0], 0.25 - Tolerance, 0.25 + Tolerance);
        Assert.InRange(shares[1], 0.75 - Tolerance, 0.75 + Tolerance);
    }

    [Fact]
    public void NoWeightsOrRpm_TpmSpreadsPicksInProportion()
    {
        var available = Destinations.For(
            Destinations.Deployment("a", tpm: 900_000),
            Destinations.Deployment("b", tpm: 100_000));

        var shares = Shares(new SimpleShufflePolicy(new SeededRandomSource(3)), available);

        Assert.InRange(shares[0], 0.9 - Tolerance, 0.9 + Tolerance);
        Assert.InRange(shares[1], 0.1 - Tolerance, 0.1 + Tolerance);
    }

    [Fact]
    public void NothingToWeighBy_IsUniform()
    {
        var available = Destinations.For(
            Destinations.Deployment("a"),
            Destinations.Deployment("b"),
            Destinations.Deployment("c"),
            Destinations.Deployment("d"));

        var shares = Shares(new SimpleShufflePolicy(new SeededRandomSource(4)), available);

        foreach (var share in shares)
        {
            Assert.InRange(share, 0.25 - Tolerance, 0.25 + Tolerance);
        }
    }

    [Fact]
    public void AllWeightsZero_IsUniform()
    {
        var available = Destinations.For(
            Destinations.Deployment("a", weight: 0),
            Destinations.Deployment("b", weight: 0));

        var shares = Shares(new SimpleShufflePolicy(new SeededRandomSource(5)), available);

        Assert.InRange(shares[0], 0.5 - Tolerance, 0.5 + Tolerance);
    }

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(0.24, 0)]
    [InlineData(0.25, 1)]
    [InlineData(0.26, 1)]
    [InlineData(0.99, 1)]
    public void Weights_MapTheRandomPointOntoCumulativeRanges(double draw, int expected)
    {
        // Weights 1 and 3: [0, 0.25) is a, [0.25, 1) is b.
        var available = Destinations.For(Destinations.Deployment("a", weight: 1), Destinations.Deployment("b", weight: 3));
        var random = new FixedRandomSource(draw);
        var policy = new SimpleShufflePolicy(random);

        Assert.Same(available[expected], policy.PickDestination(Destinations.Context(), Destinations.Cluster, available));
        Assert.Equal(1, random.Calls);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.999999)]
    public void WeightOnAnyDeployment_MakesMissingWeightsZero(double draw)
    {
        // LiteLLM reads only the first deployment, which has no weight here, and would shuffle uniformly.
        var available = Destinations.For(
            Destinations.Deployment("unweighted", rpm: 1000),
            Destinations.Deployment("weighted", weight: 2),
            Destinations.Deployment("zero", weight: 0));
        var policy = new SimpleShufflePolicy(new FixedRandomSource(draw));

        Assert.Same(available[1], policy.PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(0.34, 1)]
    [InlineData(0.999999, 2)]
    public void Uniform_MapsTheDrawOntoTheCandidates(double draw, int expected)
    {
        var available = Destinations.For(Destinations.Deployment("a"), Destinations.Deployment("b"), Destinations.Deployment("c"));
        var policy = new SimpleShufflePolicy(new FixedRandomSource(draw));

        Assert.Same(available[expected], policy.PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    private static double[] Shares(SimpleShufflePolicy policy, DestinationState[] available)
    {
        var counts = new int[available.Length];
        var context = Destinations.Context();
        for (var i = 0; i < Picks; i++)
        {
            var picked = policy.PickDestination(context, Destinations.Cluster, available);
            counts[Array.IndexOf(available, picked)]++;
        }

        var shares = new double[counts.Length];
        for (var i = 0; i < counts.Length; i++)
        {
            shares[i] = counts[i] / (double)Picks;
        }

        return shares;
    }
}
