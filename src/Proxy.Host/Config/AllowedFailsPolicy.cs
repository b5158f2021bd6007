namespace Proxy.Host.Config;

/// <summary><c>router_settings.allowed_fails_policy</c>: failures per error class before a deployment cools down.</summary>
internal sealed record AllowedFailsPolicy
{
    public int? BadRequestErrorAllowedFails { get; init; }

    public int? AuthenticationErrorAllowedFails { get; init; }

    public int? TimeoutErrorAllowedFails { get; init; }

    public int? RateLimitErrorAllowedFails { get; init; }

    public int? ContentPolicyViolationErrorAllowedFails { get; init; }

    public int? InternalServerErrorAllowedFails { get; init; }
}
