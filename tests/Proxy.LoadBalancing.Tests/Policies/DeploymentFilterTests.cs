using Proxy.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Proxy.LoadBalancing.Eligibility;
using Proxy.LoadBalancing.Tests.TestSupport;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Tests.Policies;

/// <summary>
/// The rules every strategy obeys: the eligibility step (<see cref="DeploymentEligibility"/>) narrows the candidates,
/// then the strategy picks among them. Each case leaves exactly one right answer and puts it where a strategy that
/// ignored the rule would not land (not first in the list), and random strategies pick many times.
/// </summary>
public class DeploymentFilterTests
{
    private const int Picks = 50;

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 12, 0, 30, TimeSpan.Zero));

    private long Minute => DeploymentStats.MinuteOf(_time);

    [Theory]
    [MemberData(nameof(PolicyFactory.Names), MemberType = typeof(PolicyFactory))]
    public void NoDestinations_ReturnsNull(string name)
    {
        var policy = PolicyFactory.Create(name, _time);

        Assert.Null(Pick(policy, []));
    }

    [Theory]
    [MemberData(nameof(PolicyFactory.Names), MemberType = typeof(PolicyFactory))]
    public void OneDestination_WithinLimits_ReturnsIt(string name)
    {
        var only = Destinations.For(Destinations.Deployment("a", rpm: 10));
        var policy = PolicyFactory.Create(name, _time);

        Assert.Same(only, Pick(policy, [only]));
    }

    [Theory]
    [MemberData(nameof(PolicyFactory.Names), MemberType = typeof(PolicyFactory))]
    public void OneDestination_OverRpm_IsNotEligible(string name)
    {
        var deployment = Destinations.Deployment("a", rpm: 1);
        deployment.Stats.RequestStarted(Minute);
        var policy = PolicyFactory.Create(name, _time);

        Assert.Null(Pick(policy, [Destinations.For(deployment)]));
    }

    [Theory]
    [MemberData(nameof(PolicyFactory.Names), MemberType = typeof(PolicyFactory))]
    public void LowerOrderTier_WinsOverBetterDeploymentsInHigherTiers(string name)
    {
        var a = Destinations.Deployment("a", weight: 100, order: 1, inputCost: 1e-9, outputCost: 1e-9);
        var b = Destinations.Deployment("b", weight: 1, order: 1, inputCost: 1e-9, outputCost: 1e-9);
        var c = Destinations.Deployment("c", weight: 1, order: 0, inputCost: 1, outputCost: 1);
        c.Stats.RequestStarted(Minute);
        c.Stats.AddTokens(Minute, 1000);
        c.Stats.AddLatency(10, _time.GetTimestamp());
        var available = Destinations.For(a, b, c);
        var policy = PolicyFactory.Create(name, _time);

        for (var i = 0; i < Picks; i++)
        {
            Assert.Same(available[2], Pick(policy, available));
        }
    }

    [Theory]
    [MemberData(nameof(PolicyFactory.Names), MemberType = typeof(PolicyFactory))]
    public void HigherTiersAfterTheLowest_AreNotCandidates(string name)
    {
        var c = Destinations.Deployment("c", weight: 1, order: 0, inputCost: 1, outputCost: 1);
        c.Stats.RequestStarted(Minute);
        c.Stats.AddTokens(Minute, 1000);
        c.Stats.AddLatency(10, _time.GetTimestamp());
        var a = Destinations.Deployment("a", weight: 100, order: 1, inputCost: 1e-9, outputCost: 1e-9);
        var b = Destinations.Deployment("b", weight: 100, order: 3, inputCost: 1e-9, outputCost: 1e-9);
        var available = Destinations.For(c, a, b);
        var policy = PolicyFactory.Create(name, _time);

        for (var i = 0; i < Picks; i++)
        {
            Assert.Same(available[0], Pick(policy, available));
        }
    }

    [Theory]
    [MemberData(nameof(PolicyFactory.Names), MemberType = typeof(PolicyFactory))]
    public void LowestTierOverRpm_NextTierIsUsed(string name)
    {
        var full = Destinations.Deployment("full", order: 0, rpm: 2);
        full.Stats.RequestStarted(Minute);
        full.Stats.RequestStarted(Minute);
        var available = Destinations.For(
            full,
            Destinations.Deployment("third", order: 2),
            Destinations.Deployment("second", order: 1));
        var policy = PolicyFactory.Create(name, _time);

        for (var i = 0; i < Picks; i++)
        {
            Assert.Same(available[2], Pick(policy, available));
        }
    }

    [Theory]
    [MemberData(nameof(PolicyFactory.Names), MemberType = typeof(PolicyFactory))]
    public void DeploymentAtItsRpm_IsSkipped_AndOneBelowIsNot(string name)
    {
        var atLimit = Destinations.Deployment("at-limit", rpm: 3);
        var belowLimit = Destinations.Deployment("below-limit", rpm: 3);
        for (var i = 0; i < 3; i++)
        {
            atLimit.Stats.RequestStarted(Minute);
        }

        belowLimit.Stats.RequestStarted(Minute);
        belowLimit.Stats.RequestStarted(Minute);
        var available = Destinations.For(atLimit, belowLimit);
        var policy = PolicyFactory.Create(name, _time);

        for (var i = 0; i < Picks; i++)
        {
            Assert.Same(available[1], Pick(policy, available));
        }
    }

    [Theory]
    [MemberData(nameof(PolicyFactory.Names), MemberType = typeof(PolicyFactory))]
    public void RequestsOfAnEarlierMinute_DoNotCountAgainstRpm(string name)
    {
        var a = Destinations.Deployment("a", rpm: 1);
        var b = Destinations.Deployment("b", rpm: 1);
        a.Stats.RequestStarted(Minute);
        b.Stats.RequestStarted(Minute);
        var available = Destinations.For(a, b);
        var policy = PolicyFactory.Create(name, _time);
        Assert.Null(Pick(policy, available));

        _time.Advance(TimeSpan.FromSeconds(60));

        Assert.NotNull(Pick(policy, available));
    }

    [Theory]
    [MemberData(nameof(PolicyFactory.Names), MemberType = typeof(PolicyFactory))]
    public void RequestTokensThatWouldPassTpm_ExcludeTheDeployment(string name)
    {
        var busy = Destinations.Deployment("busy", tpm: 100);
        busy.Stats.AddTokens(Minute, 50);
        var available = Destinations.For(busy, Destinations.Deployment("other", tpm: 1000));
        var policy = PolicyFactory.Create(name, _time);

        for (var i = 0; i < Picks; i++)
        {
            Assert.Same(available[1], Pick(policy, available, 51));
        }
    }

    [Fact]
    public void RequestTokensThatReachTpmExactly_KeepTheDeployment()
    {
        var busy = Destinations.Deployment("busy", tpm: 100);
        busy.Stats.AddTokens(Minute, 50);
        var other = Destinations.Deployment("other");
        other.Stats.RequestStarted(Minute);
        var available = Destinations.For(busy, other);
        var policy = PolicyFactory.Create(Proxy.LoadBalancing.Policies.PolicyNames.LeastBusy, _time);

        Assert.Same(available[0], Pick(policy, available, 50));
        Assert.Same(available[1], Pick(policy, available, 51));
    }

    [Theory]
    [MemberData(nameof(PolicyFactory.Names), MemberType = typeof(PolicyFactory))]
    public void EveryDeploymentOverItsLimits_ReturnsNull(string name)
    {
        var overRpm = Destinations.Deployment("rpm", rpm: 1, order: 0);
        overRpm.Stats.RequestStarted(Minute);
        var overTpm = Destinations.Deployment("tpm", tpm: 10, order: 1);
        var available = Destinations.For(overRpm, overTpm);
        var policy = PolicyFactory.Create(name, _time);

        Assert.Null(Pick(policy, available, 11));
    }

    [Theory]
    [MemberData(nameof(PolicyFactory.Names), MemberType = typeof(PolicyFactory))]
    public void DestinationWithoutDeploymentMetadata_IsIgnored(string name)
    {
        DestinationState[] available = [Destinations.Plain("plain"), Destinations.For(Destinations.Deployment("a"))];
        var policy = PolicyFactory.Create(name, _time);

        for (var i = 0; i < Picks; i++)
        {
            Assert.Same(available[1], Pick(policy, available));
        }
    }

    [Theory]
    [MemberData(nameof(PolicyFactory.Names), MemberType = typeof(PolicyFactory))]
    public void NoDestinationHasDeploymentMetadata_FallsBackToTheFirst(string name)
    {
        DestinationState[] available = [Destinations.Plain("first"), Destinations.Plain("second")];
        var policy = PolicyFactory.Create(name, _time);

        Assert.Same(available[0], Pick(policy, available));
        Assert.Same(available[0], Pick(policy, [available[0]]));
    }

    [Theory]
    [MemberData(nameof(PolicyFactory.Names), MemberType = typeof(PolicyFactory))]
    public void MoreDestinationsThanTheStackHolds_StillFiltered(string name)
    {
        var available = new DestinationState[300];
        for (var i = 0; i < available.Length; i++)
        {
            var deployment = Destinations.Deployment($"d{i}", rpm: 1);
            if (i != 280)
            {
                deployment.Stats.RequestStarted(Minute);
            }

            available[i] = Destinations.For(deployment);
        }

        var policy = PolicyFactory.Create(name, _time);

        for (var i = 0; i < 3; i++)
        {
            Assert.Same(available[280], Pick(policy, available));
        }
    }

    [Theory]
    [MemberData(nameof(PolicyFactory.Names), MemberType = typeof(PolicyFactory))]
    public void Policy_PicksAmongWhatItIsGiven_WithoutCheckingLimits(string name)
    {
        // YARP hands a single candidate over without asking the policy; limits live in the eligibility step for that reason.
        var deployment = Destinations.Deployment("a", rpm: 1);
        deployment.Stats.RequestStarted(Minute);
        var only = Destinations.For(deployment);
        var policy = PolicyFactory.Create(name, _time);

        Assert.Same(only, policy.PickDestination(Destinations.Context(), Destinations.Cluster, [only]));
    }

    private DestinationState? Pick(Yarp.ReverseProxy.LoadBalancing.ILoadBalancingPolicy policy, IReadOnlyList<DestinationState> available, int tokens = 0)
    {
        List<DestinationState>? scratch = null;
        var eligible = DeploymentEligibility.Select(available, null, new EligibilityQuery(tokens, false, Minute), ref scratch, out var verdict);
        return verdict == EligibilityVerdict.Eligible ? policy.PickDestination(Destinations.Context(tokens), Destinations.Cluster, eligible) : null;
    }
}
