namespace Proxy.Host.Config;

/// <summary><c>router_settings.retry_policy</c>: retries per error class.</summary>
internal sealed record RetryPolicy
{
    public int? BadRequestErrorRetries { get; init; }

    public int? AuthenticationErrorRetries { get; init; }

    public int? TimeoutErrorRetries { get; init; }

    public int? RateLimitErrorRetries { get; init; }

    public int? ContentPolicyViolationErrorRetries { get; init; }

    public int? InternalServerErrorRetries { get; init; }

    public int? NotFoundErrorRetries { get; init; }
}
