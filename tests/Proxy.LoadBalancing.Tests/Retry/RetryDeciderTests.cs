using Proxy.Abstractions;
using Proxy.LoadBalancing.Retry;

namespace Proxy.LoadBalancing.Tests.Retry;

public class RetryDeciderTests
{
    [Theory]
    [InlineData(UpstreamFailureKind.None)]
    [InlineData(UpstreamFailureKind.BadRequest)]
    [InlineData(UpstreamFailureKind.ContextWindowExceeded)]
    [InlineData(UpstreamFailureKind.ContentPolicyViolation)]
    [InlineData(UpstreamFailureKind.Authentication)]
    [InlineData(UpstreamFailureKind.PermissionDenied)]
    [InlineData(UpstreamFailureKind.NotFound)]
    public void FailuresARetryCannotFix_AreNotRetried(UpstreamFailureKind kind)
    {
        Assert.Equal(0, RetryDecider.AllowedRetries(kind, new RouterOptions { NumRetries = 5 }, requestNumRetries: 3));
    }

    [Theory]
    [InlineData(UpstreamFailureKind.Timeout)]
    [InlineData(UpstreamFailureKind.RateLimit)]
    [InlineData(UpstreamFailureKind.InternalServer)]
    [InlineData(UpstreamFailureKind.ServiceUnavailable)]
    [InlineData(UpstreamFailureKind.Connection)]
    public void RetryableFailures_GetNumRetries(UpstreamFailureKind kind)
    {
        Assert.Equal(2, RetryDecider.AllowedRetries(kind, RouterOptions.Default, requestNumRetries: null));
        Assert.Equal(4, RetryDecider.AllowedRetries(kind, new RouterOptions { NumRetries = 4 }, requestNumRetries: null));
    }

    [Fact]
    public void RequestNumRetries_OverridesTheRouterSetting()
    {
        Assert.Equal(7, RetryDecider.AllowedRetries(UpstreamFailureKind.Timeout, new RouterOptions { NumRetries = 4 }, requestNumRetries: 7));
        Assert.Equal(0, RetryDecider.AllowedRetries(UpstreamFailureKind.Timeout, new RouterOptions { NumRetries = 4 }, requestNumRetries: 0));
    }

    [Fact]
    public void RetryPolicy_ReplacesNumRetriesForItsKindOnly()
    {
        var options = new RouterOptions
        {
            NumRetries = 4,
            RetryPolicy = new Dictionary<UpstreamFailureKind, int> { [UpstreamFailureKind.RateLimit] = 1 },
        };

        Assert.Equal(1, RetryDecider.AllowedRetries(UpstreamFailureKind.RateLimit, options, requestNumRetries: 6));
        Assert.Equal(6, RetryDecider.AllowedRetries(UpstreamFailureKind.Timeout, options, requestNumRetries: 6));
        Assert.Equal(4, RetryDecider.AllowedRetries(UpstreamFailureKind.Timeout, options, requestNumRetries: null));
    }

    [Fact]
    public void NegativeCounts_MeanNoRetries()
    {
        var options = new RouterOptions { RetryPolicy = new Dictionary<UpstreamFailureKind, int> { [UpstreamFailureKind.Timeout] = -1 } };

        Assert.Equal(0, RetryDecider.AllowedRetries(UpstreamFailureKind.Timeout, options, requestNumRetries: null));
        Assert.Equal(0, RetryDecider.AllowedRetries(UpstreamFailureKind.InternalServer, options, requestNumRetries: -3));
    }

    [Theory]
    [InlineData(1, 1.0)]
    [InlineData(10, 10.0)]
    [InlineData(60, 60.0)]
    public void RetryAfterUpToSixtySeconds_IsHonoured(int retryAfter, double expectedSeconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), RetryDecider.Backoff(retry: 3, retryAfter, minimumSeconds: 0, random: 0.9));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(61)]
    public void RetryAfterOutOfRange_FallsBackToExponentialBackoff(int retryAfter)
    {
        Assert.Equal(TimeSpan.FromSeconds(1), RetryDecider.Backoff(retry: 1, retryAfter, minimumSeconds: 0, random: 0));
    }

    [Theory]
    [InlineData(0, 0.5)]
    [InlineData(1, 1.0)]
    [InlineData(2, 2.0)]
    [InlineData(3, 4.0)]
    [InlineData(4, 8.0)]
    [InlineData(10, 8.0)]
    public void Backoff_DoublesFromHalfASecond_CappedAtEight(int retry, double expectedSeconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), RetryDecider.Backoff(retry, retryAfterSeconds: 0, minimumSeconds: 0, random: 0));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(6)]
    public void Jitter_TakesOffAtMostAQuarter(int retry)
    {
        var full = RetryDecider.Backoff(retry, 0, 0, random: 0);
        for (var draw = 0.0; draw < 1.0; draw += 0.05)
        {
            var backoff = RetryDecider.Backoff(retry, 0, 0, draw);
            Assert.InRange(backoff, full * 0.75, full);
        }

        Assert.Equal(full * 0.75, RetryDecider.Backoff(retry, 0, 0, random: 1.0));
        Assert.True(RetryDecider.Backoff(retry, 0, 0, random: 0.5) < full);
    }

    [Fact]
    public void RetryAfterSetting_IsTheMinimum()
    {
        Assert.Equal(TimeSpan.FromSeconds(3), RetryDecider.Backoff(retry: 0, retryAfterSeconds: 0, minimumSeconds: 3, random: 0));
        Assert.Equal(TimeSpan.FromSeconds(20), RetryDecider.Backoff(retry: 0, retryAfterSeconds: 10, minimumSeconds: 20, random: 0));
        Assert.Equal(TimeSpan.FromSeconds(10), RetryDecider.Backoff(retry: 0, retryAfterSeconds: 10, minimumSeconds: 2, random: 0));
    }
}
