using Proxy.Abstractions;
using Proxy.LoadBalancing.Health;

namespace Proxy.LoadBalancing.Tests.Health;

public class CooldownPolicyTests
{
    private const long Minute = 29_000_000;

    private static readonly RouterOptions DefaultMode = RouterOptions.Default;

    [Theory]
    [InlineData(UpstreamFailureKind.BadRequest)]
    [InlineData(UpstreamFailureKind.ContextWindowExceeded)]
    [InlineData(UpstreamFailureKind.ContentPolicyViolation)]
    [InlineData(UpstreamFailureKind.PermissionDenied)]
    public void ClientMistakes_NeverCoolDown(UpstreamFailureKind kind)
    {
        var stats = Stats(failures: 50, successes: 0);

        Assert.False(CooldownPolicy.ShouldCoolDown(kind, stats, Minute, singleDeployment: false, DefaultMode));
        Assert.False(CooldownPolicy.ShouldCoolDown(kind, stats, Minute, singleDeployment: false, new RouterOptions { AllowedFails = 0 }));
    }

    [Theory]
    [InlineData(UpstreamFailureKind.Authentication)]
    [InlineData(UpstreamFailureKind.NotFound)]
    public void UnfixableErrors_CoolDownEvenTheOnlyDeployment(UpstreamFailureKind kind)
    {
        var stats = Stats(failures: 1, successes: 100);

        Assert.True(CooldownPolicy.ShouldCoolDown(kind, stats, Minute, singleDeployment: true, DefaultMode));
    }

    [Fact]
    public void RateLimit_CoolsDownAtOnce_WhenOthersCanServe()
    {
        var stats = Stats(failures: 1, successes: 100);

        Assert.True(CooldownPolicy.ShouldCoolDown(UpstreamFailureKind.RateLimit, stats, Minute, singleDeployment: false, DefaultMode));
        Assert.False(CooldownPolicy.ShouldCoolDown(UpstreamFailureKind.RateLimit, stats, Minute, singleDeployment: true, DefaultMode));
    }

    [Theory]
    [InlineData(3, 2, true)]
    [InlineData(3, 3, false)]
    [InlineData(4, 0, false)]
    [InlineData(5, 0, true)]
    [InlineData(2, 10, false)]
    public void FailureRateAboveHalf_WithAtLeastFiveRequests_CoolsDown(int failures, int successes, bool expected)
    {
        var stats = Stats(failures, successes);

        Assert.Equal(expected, CooldownPolicy.ShouldCoolDown(UpstreamFailureKind.InternalServer, stats, Minute, singleDeployment: false, DefaultMode));
    }

    [Theory]
    [InlineData(1000, 0, true)]
    [InlineData(999, 0, false)]
    [InlineData(1000, 1, false)]
    public void SingleDeployment_CoolsDownOnlyAfterSustainedTotalFailure(int failures, int successes, bool expected)
    {
        var stats = Stats(failures, successes);

        Assert.Equal(expected, CooldownPolicy.ShouldCoolDown(UpstreamFailureKind.ServiceUnavailable, stats, Minute, singleDeployment: true, DefaultMode));
        Assert.Equal(expected, CooldownPolicy.ShouldCoolDown(UpstreamFailureKind.RateLimit, stats, Minute, singleDeployment: true, DefaultMode));
    }

    [Fact]
    public void FailuresOfAnEarlierMinute_DoNotCount()
    {
        var stats = Stats(failures: 10, successes: 0);

        Assert.True(CooldownPolicy.ShouldCoolDown(UpstreamFailureKind.Timeout, stats, Minute, singleDeployment: false, DefaultMode));
        Assert.False(CooldownPolicy.ShouldCoolDown(UpstreamFailureKind.Timeout, stats, Minute + 1, singleDeployment: false, DefaultMode));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    public void AllowedFails_CoolsDownWhenFailuresExceedIt(int failures, bool expected)
    {
        var options = new RouterOptions { AllowedFails = 1 };

        // Counting mode has no single-deployment guard and ignores successes.
        Assert.Equal(expected, CooldownPolicy.ShouldCoolDown(UpstreamFailureKind.InternalServer, Stats(failures, 100), Minute, singleDeployment: true, options));
    }

    [Fact]
    public void AllowedFails_RateLimitStillCoolsDownAtOnce()
    {
        var options = new RouterOptions { AllowedFails = 10 };

        Assert.True(CooldownPolicy.ShouldCoolDown(UpstreamFailureKind.RateLimit, Stats(1, 0), Minute, singleDeployment: true, options));
    }

    [Theory]
    [InlineData(UpstreamFailureKind.RateLimit, 2, false)]
    [InlineData(UpstreamFailureKind.RateLimit, 3, true)]
    [InlineData(UpstreamFailureKind.Timeout, 1, true)]
    [InlineData(UpstreamFailureKind.InternalServer, 3, false)]
    [InlineData(UpstreamFailureKind.InternalServer, 4, true)]
    public void AllowedFailsPolicy_SetsTheAllowancePerKind_OthersUseTheDefaultOfThree(UpstreamFailureKind kind, int failures, bool expected)
    {
        var options = new RouterOptions
        {
            AllowedFailsPolicy = new Dictionary<UpstreamFailureKind, int>
            {
                [UpstreamFailureKind.RateLimit] = 2,
                [UpstreamFailureKind.Timeout] = 0,
            },
        };

        Assert.Equal(expected, CooldownPolicy.ShouldCoolDown(kind, Stats(failures, 0), Minute, singleDeployment: false, options));
    }

    [Fact]
    public void CurrentMinute_IsUnixSecondsOverSixty()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds((Minute * 60) + 59));

        Assert.Equal(Minute, Proxy.Abstractions.DeploymentStats.MinuteOf(time));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Minute + 1, Proxy.Abstractions.DeploymentStats.MinuteOf(time));
    }

    private static DeploymentStats Stats(int failures, int successes)
    {
        var stats = new DeploymentStats();
        for (var i = 0; i < failures; i++)
        {
            stats.RecordOutcome(Minute, success: false);
        }

        for (var i = 0; i < successes; i++)
        {
            stats.RecordOutcome(Minute, success: true);
        }

        return stats;
    }
}
