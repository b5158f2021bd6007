using Proxy.Abstractions;
using Proxy.Host.Config;

namespace Proxy.Host.Routing;

/// <summary>Resolves router_settings over litellm_settings (router wins, as in LiteLLM) into <see cref="RouterOptions"/>.</summary>
internal static class RouterOptionsBuilder
{
    public static RouterOptions Build(GatewayConfig config)
    {
        var router = config.RouterSettings;
        var litellm = config.LitellmSettings;
        var defaults = RouterOptions.Default;
        return new RouterOptions
        {
            RoutingStrategy = router.RoutingStrategy,
            NumRetries = router.NumRetries ?? litellm.NumRetries ?? defaults.NumRetries,
            RetryPolicy = RetryPolicyOf(router.RetryPolicy),
            RetryAfterSeconds = router.RetryAfter,
            // LiteLLM's default of 3 keeps its failure-rate mode; any other value switches to counting failures.
            AllowedFails = (router.AllowedFails ?? litellm.AllowedFails) is { } allowed && allowed != 3 ? allowed : null,
            AllowedFailsPolicy = AllowedFailsOf(router.AllowedFailsPolicy),
            CooldownTime = TimeSpan.FromSeconds(router.CooldownTime ?? litellm.CooldownTime ?? defaults.CooldownTime.TotalSeconds),
            DisableCooldowns = router.DisableCooldowns,
            Fallbacks = router.Fallbacks.Count > 0 ? router.Fallbacks : litellm.Fallbacks,
            DefaultFallbacks = router.DefaultFallbacks.Count > 0 ? router.DefaultFallbacks : litellm.DefaultFallbacks,
            ContextWindowFallbacks = router.ContextWindowFallbacks.Count > 0 ? router.ContextWindowFallbacks : litellm.ContextWindowFallbacks,
            ContentPolicyFallbacks = router.ContentPolicyFallbacks.Count > 0 ? router.ContentPolicyFallbacks : litellm.ContentPolicyFallbacks,
            MaxFallbacks = router.MaxFallbacks ?? defaults.MaxFallbacks,
            EnablePreCallChecks = router.EnablePreCallChecks,
            MockTestingFlags = !config.GeneralSettings.DisableMockTestingFlags,
            Strategy = new RoutingStrategyOptions
            {
                LatencyTtl = router.RoutingStrategyArgs.Ttl is { } ttl ? TimeSpan.FromSeconds(ttl) : RoutingStrategyOptions.Default.LatencyTtl,
                LowestLatencyBuffer = router.RoutingStrategyArgs.LowestLatencyBuffer ?? 0,
            },
            Affinity = new AffinityOptions
            {
                SessionAffinity = router.OptionalPreCallChecks.Contains("session_affinity"),
                DeploymentAffinity = router.OptionalPreCallChecks.Contains("deployment_affinity"),
                Ttl = TimeSpan.FromSeconds(router.DeploymentAffinityTtlSeconds ?? 3600),
                PerGroup = router.ModelGroupAffinityConfig,
            },
            VllmMetricsInterval = router.VllmMetricsInterval is { } interval ? TimeSpan.FromSeconds(interval) : null,
        };
    }

    private static Dictionary<UpstreamFailureKind, int> RetryPolicyOf(RetryPolicy? policy)
    {
        var map = new Dictionary<UpstreamFailureKind, int>();
        if (policy is null)
        {
            return map;
        }

        Add(map, UpstreamFailureKind.BadRequest, policy.BadRequestErrorRetries);
        Add(map, UpstreamFailureKind.Authentication, policy.AuthenticationErrorRetries);
        Add(map, UpstreamFailureKind.Timeout, policy.TimeoutErrorRetries);
        Add(map, UpstreamFailureKind.RateLimit, policy.RateLimitErrorRetries);
        Add(map, UpstreamFailureKind.ContentPolicyViolation, policy.ContentPolicyViolationErrorRetries);
        Add(map, UpstreamFailureKind.InternalServer, policy.InternalServerErrorRetries);
        Add(map, UpstreamFailureKind.NotFound, policy.NotFoundErrorRetries);
        return map;
    }

    private static Dictionary<UpstreamFailureKind, int> AllowedFailsOf(AllowedFailsPolicy? policy)
    {
        var map = new Dictionary<UpstreamFailureKind, int>();
        if (policy is null)
        {
            return map;
        }

        Add(map, UpstreamFailureKind.BadRequest, policy.BadRequestErrorAllowedFails);
        Add(map, UpstreamFailureKind.Authentication, policy.AuthenticationErrorAllowedFails);
        Add(map, UpstreamFailureKind.Timeout, policy.TimeoutErrorAllowedFails);
        Add(map, UpstreamFailureKind.RateLimit, policy.RateLimitErrorAllowedFails);
        Add(map, UpstreamFailureKind.ContentPolicyViolation, policy.ContentPolicyViolationErrorAllowedFails);
        Add(map, UpstreamFailureKind.InternalServer, policy.InternalServerErrorAllowedFails);
        return map;
    }

    private static void Add(Dictionary<UpstreamFailureKind, int> map, UpstreamFailureKind kind, int? value)
    {
        if (value is { } v)
        {
            map[kind] = v;
        }
    }
}
