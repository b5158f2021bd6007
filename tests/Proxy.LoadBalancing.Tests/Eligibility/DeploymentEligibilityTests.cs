using Microsoft.Extensions.Time.Testing;
using Proxy.Abstractions;
using Proxy.LoadBalancing.Eligibility;
using Proxy.LoadBalancing.Tests.TestSupport;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Tests.Eligibility;

public class DeploymentEligibilityTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 30, TimeSpan.Zero));

    private long Minute => DeploymentStats.MinuteOf(_time);

    [Fact]
    public void AllEligible_ReturnsTheAvailableListItself()
    {
        var available = Destinations.For(Destinations.Deployment("a", rpm: 5), Destinations.Deployment("b"));

        var eligible = Select(available, null, out var verdict, out var scratch);

        Assert.Equal(EligibilityVerdict.Eligible, verdict);
        Assert.Same(available, eligible);
        Assert.Null(scratch);
    }

    [Fact]
    public void NoAvailable_IsNoneHealthy()
    {
        Select([], null, out var verdict, out _);

        Assert.Equal(EligibilityVerdict.NoneHealthy, verdict);
    }

    [Fact]
    public void OnlyDeploymentOverRpm_IsOverLimits()
    {
        var deployment = Destinations.Deployment("a", rpm: 1);
        deployment.Stats.RequestStarted(Minute);

        var eligible = Select([Destinations.For(deployment)], null, out var verdict, out _);

        Assert.Equal(EligibilityVerdict.OverLimits, verdict);
        Assert.Empty(eligible);
    }

    [Fact]
    public void OnlyDeploymentAtItsParallelLimit_IsOverLimits_UntilOneFinishes()
    {
        var deployment = Destinations.Deployment("a", maxParallel: 2);
        deployment.Stats.RequestStarted(Minute);
        deployment.Stats.RequestStarted(Minute);
        DestinationState[] available = [Destinations.For(deployment)];

        Select(available, null, out var full, out _);
        deployment.Stats.RequestFinished();
        Select(available, null, out var freed, out _);

        Assert.Equal(EligibilityVerdict.OverLimits, full);
        Assert.Equal(EligibilityVerdict.Eligible, freed);
    }

    [Fact]
    public void OnlyDeploymentOverTpm_ForThisPrompt_IsOverLimits()
    {
        var deployment = Destinations.Deployment("a", tpm: 100);
        deployment.Stats.AddTokens(Minute, 60);

        Select([Destinations.For(deployment)], null, out var fits, out _, tokens: 40);
        Select([Destinations.For(deployment)], null, out var over, out _, tokens: 41);

        Assert.Equal(EligibilityVerdict.Eligible, fits);
        Assert.Equal(EligibilityVerdict.OverLimits, over);
    }

    [Fact]
    public void EveryDeploymentTooSmall_IsContextWindowExceeded_OnlyWithPreCallChecks()
    {
        var available = Destinations.For(Destinations.Deployment("a", maxInputTokens: 100), Destinations.Deployment("b", maxInputTokens: 200));

        Select(available, null, out var checkedVerdict, out _, tokens: 500, checkContext: true);
        Select(available, null, out var uncheckedVerdict, out _, tokens: 500, checkContext: false);

        Assert.Equal(EligibilityVerdict.ContextWindowExceeded, checkedVerdict);
        Assert.Equal(EligibilityVerdict.Eligible, uncheckedVerdict);
    }

    [Fact]
    public void TooSmallDeployment_IsLeftOut_WhenABiggerOneFits()
    {
        var available = Destinations.For(Destinations.Deployment("small", maxInputTokens: 100), Destinations.Deployment("big", maxInputTokens: 1000));

        var eligible = Select(available, null, out _, out _, tokens: 500, checkContext: true);

        Assert.Equal(Ids([available[1]]), Ids(eligible));
    }

    [Fact]
    public void LowestOrderTier_Only()
    {
        var available = Destinations.For(
            Destinations.Deployment("backup", order: 2), Destinations.Deployment("primary", order: 1), Destinations.Deployment("also-primary", order: 1));

        var eligible = Select(available, null, out _, out _);

        Assert.Equal(Ids([available[1], available[2]]), Ids(eligible));
    }

    [Fact]
    public void LowestTierOverItsLimits_NextTierServes()
    {
        var primary = Destinations.Deployment("primary", order: 1, rpm: 1);
        primary.Stats.RequestStarted(Minute);
        var available = Destinations.For(primary, Destinations.Deployment("secondary", order: 2));

        var eligible = Select(available, null, out var verdict, out _);

        Assert.Equal(EligibilityVerdict.Eligible, verdict);
        Assert.Equal(Ids([available[1]]), Ids(eligible));
    }

    [Fact]
    public void Retry_PrefersUntriedDeployments_EvenOfAHigherTier()
    {
        var available = Destinations.For(Destinations.Deployment("primary", order: 1), Destinations.Deployment("secondary", order: 2));

        var eligible = Select(available, [available[0]], out _, out _);

        Assert.Equal(Ids([available[1]]), Ids(eligible));
    }

    [Fact]
    public void Retry_OnceEveryDeploymentWasTried_GoesBackToTheLowestTier()
    {
        var available = Destinations.For(
            Destinations.Deployment("a", order: 1), Destinations.Deployment("b", order: 1), Destinations.Deployment("c", order: 2));

        var eligible = Select(available, [available[0], available[1], available[2]], out _, out _);

        Assert.Equal(Ids([available[0], available[1]]), Ids(eligible));
    }

    [Fact]
    public void ScratchList_IsReusedAcrossAttempts()
    {
        var available = Destinations.For(Destinations.Deployment("a"), Destinations.Deployment("b"), Destinations.Deployment("c"));
        List<DestinationState>? scratch = null;
        var query = new EligibilityQuery(0, false, Minute);

        var first = DeploymentEligibility.Select(available, [available[0]], query, ref scratch, out _);
        var list = scratch;
        var second = DeploymentEligibility.Select(available, [available[0], available[1]], query, ref scratch, out _);

        Assert.Same(list, scratch);
        Assert.Same(first, second);
        Assert.Equal(Ids([available[2]]), Ids(second));
    }

    [Fact]
    public void SecondsToNextMinute_CountsUpToTheBoundary()
    {
        Assert.Equal(30, DeploymentEligibility.SecondsToNextMinute(_time));
        _time.Advance(TimeSpan.FromSeconds(29.5));
        Assert.Equal(1, DeploymentEligibility.SecondsToNextMinute(_time));
    }

    // DestinationState is itself a list of one destination, so xunit's collection comparison of destinations never ends.
    private static string[] Ids(IReadOnlyList<DestinationState> destinations) => [.. destinations.Select(d => d.DestinationId)];

    private IReadOnlyList<DestinationState> Select(
        IReadOnlyList<DestinationState> available, IReadOnlyList<DestinationState>? tried, out EligibilityVerdict verdict,
        out List<DestinationState>? scratch, int tokens = 0, bool checkContext = false)
    {
        scratch = null;
        return DeploymentEligibility.Select(available, tried, new EligibilityQuery(tokens, checkContext, Minute), ref scratch, out verdict);
    }
}
