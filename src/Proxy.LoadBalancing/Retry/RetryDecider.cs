using Proxy.Abstractions;

namespace Proxy.LoadBalancing.Retry;

/// <summary>LiteLLM's retry rules: which failures are retried, how often, and how long to wait.</summary>
public static class RetryDecider
{
    // LiteLLM's INITIAL_RETRY_DELAY, MAX_RETRY_DELAY and the largest Retry-After it honours.
    private const double InitialDelaySeconds = 0.5;
    private const double MaxDelaySeconds = 8.0;
    private const int MaxHonouredRetryAfterSeconds = 60;

    /// <summary>How many retries a failure of this kind gets in one model group.</summary>
    public static int AllowedRetries(UpstreamFailureKind kind, RouterOptions options, int? requestNumRetries)
    {
        switch (kind)
        {
            // A retry cannot fix these; context-window and content-policy errors go to their fallbacks instead.
            case UpstreamFailureKind.None:
            case UpstreamFailureKind.BadRequest:
            case UpstreamFailureKind.ContextWindowExceeded:
            case UpstreamFailureKind.ContentPolicyViolation:
            case UpstreamFailureKind.Authentication:
            case UpstreamFailureKind.PermissionDenied:
            case UpstreamFailureKind.NotFound:
                return 0;
        }

        if (options.RetryPolicy.TryGetValue(kind, out var perKind))
        {
            return Math.Max(0, perKind);
        }

        return Math.Max(0, requestNumRetries ?? options.NumRetries);
    }

    /// <summary>
    /// The wait before retry number <paramref name="retry"/> (0-based) when no other deployment is free: the upstream's
    /// Retry-After when it is 1–60 s, else 0.5·2^n capped at 8 s with 0–25 % jitter; never below retry_after.
    /// </summary>
    public static TimeSpan Backoff(int retry, int retryAfterSeconds, double minimumSeconds, double random)
    {
        double seconds;
        if (retryAfterSeconds is > 0 and <= MaxHonouredRetryAfterSeconds)
        {
            seconds = retryAfterSeconds;
        }
        else
        {
            seconds = Math.Min(InitialDelaySeconds * Math.Pow(2, retry), MaxDelaySeconds) * (1 - (0.25 * random));
        }

        return TimeSpan.FromSeconds(Math.Max(seconds, minimumSeconds));
    }
}
