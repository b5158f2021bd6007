using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Proxy.Abstractions;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Health;

/// <summary>
/// LiteLLM's cooldown as a YARP passive health policy: after each attempt it records the outcome on the deployment
/// and, when LiteLLM's rules say so, marks the destination unhealthy for the cooldown period. YARP then leaves it out
/// of the available destinations and brings it back by itself when the period ends.
/// </summary>
internal sealed partial class CooldownPolicy(
    IDestinationHealthUpdater healthUpdater, IServiceProvider services, IRouterOptionsSource options, IEnumerable<ICooldownBroadcaster> broadcasters,
    TimeProvider time, ILogger<CooldownPolicy> logger)
    : IPassiveHealthCheckPolicy
{
    // Resolved on first use: YARP's config validator needs this policy and the config manager needs the validator,
    // so taking the config manager (IProxyStateLookup) in the constructor would be a dependency cycle.
    private IProxyStateLookup? _proxyState;

    // LiteLLM's DEFAULT_FAILURE_THRESHOLD_PERCENT and its minimum request count for the rate rule.
    private const double FailureRateThreshold = 0.5;
    private const int FailureRateMinimumRequests = 5;
    private const int SingleDeploymentFailureThreshold = 1000;
    private const int DefaultAllowedFails = 3;

    public string Name => Policies.PolicyNames.Cooldown;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        var request = context.Features.Get<GatewayRequestContext>();
        if (request is null || destination.Model.Config.Metadata is not DeploymentMetadata metadata)
        {
            return;
        }

        var attempt = request.Attempt;
        if (attempt.Simulated
            || (attempt.ForwardedClientHeaders && attempt.FailureKind is UpstreamFailureKind.Authentication or UpstreamFailureKind.PermissionDenied))
        {
            // A mock answered, not the deployment; or the upstream refused credentials the client sent along: either way
            // nothing is known about the deployment's health, and a tenant must not be able to take it out for everyone.
            return;
        }

        var failed = attempt.Failed;
        if (!failed && context.RequestAborted.IsCancellationRequested)
        {
            // A client that went away says nothing about the deployment (YARP's own policy reasons the same way).
            return;
        }

        var deployment = metadata.Deployment;
        var minute = DeploymentStats.MinuteOf(time);
        deployment.Stats.RecordOutcome(minute, success: !failed);
        var settings = options.RouterOptions;
        if (!failed || settings.DisableCooldowns)
        {
            return;
        }

        // YARP hands the policy the route's cluster; the request was reassigned to its model group's cluster.
        _proxyState ??= services.GetRequiredService<IProxyStateLookup>();
        var groupCluster = _proxyState.TryGetCluster(context.GetReverseProxyFeature().Cluster.Config.ClusterId, out var reassigned) ? reassigned : cluster;
        var single = groupCluster.Destinations.Count <= 1;
        if (!ShouldCoolDown(attempt.FailureKind, deployment.Stats, minute, single, settings))
        {
            return;
        }

        var retryAfter = attempt.Error?.RetryAfterSeconds ?? 0;
        var period = retryAfter > 0
            ? TimeSpan.FromSeconds(retryAfter)
            : deployment.CooldownTime is { } seconds ? TimeSpan.FromSeconds(seconds) : settings.CooldownTime;
        if (period <= TimeSpan.Zero)
        {
            return;
        }

        healthUpdater.SetPassive(groupCluster, destination, DestinationHealth.Unhealthy, period);
        attempt.MarkCooledDown();
        foreach (var broadcaster in broadcasters)
        {
            broadcaster.CooledDown(deployment, period);
        }

        Log.CoolingDown(logger, deployment.Id, deployment.ModelGroup, period.TotalSeconds, attempt.FailureKind);
    }

    internal static bool ShouldCoolDown(UpstreamFailureKind kind, DeploymentStats stats, long minute, bool singleDeployment, RouterOptions settings)
    {
        // LiteLLM leaves a deployment alone for client mistakes: 4xx other than 401, 404, 408 and 429.
        if (kind is UpstreamFailureKind.BadRequest or UpstreamFailureKind.ContextWindowExceeded
            or UpstreamFailureKind.ContentPolicyViolation or UpstreamFailureKind.PermissionDenied)
        {
            return false;
        }

        var failures = stats.FailuresInMinute(minute);
        if (settings.AllowedFails is not null || settings.AllowedFailsPolicy.Count > 0)
        {
            // Counting mode (a non-default allowed_fails or an allowed_fails_policy): a 429 still cools down at once.
            if (kind == UpstreamFailureKind.RateLimit && !settings.AllowedFailsPolicy.ContainsKey(UpstreamFailureKind.RateLimit))
            {
                return true;
            }

            var allowed = settings.AllowedFailsPolicy.TryGetValue(kind, out var perKind) ? perKind : settings.AllowedFails ?? DefaultAllowedFails;
            return failures > allowed;
        }

        // LiteLLM's default mode. Errors that no retry can fix take the deployment out even when it is alone.
        if (kind is UpstreamFailureKind.Authentication or UpstreamFailureKind.NotFound)
        {
            return true;
        }

        var total = failures + stats.SuccessesInMinute(minute);
        if (singleDeployment)
        {
            // Cooling down the only deployment would refuse every request, so only sustained total failure does it.
            return total >= SingleDeploymentFailureThreshold && failures == total;
        }

        if (kind == UpstreamFailureKind.RateLimit)
        {
            return true;
        }

        return total >= FailureRateMinimumRequests && failures > total * FailureRateThreshold;
    }

    private static partial class Log
    {
        [LoggerMessage(3101, LogLevel.Warning, "Deployment {DeploymentId} of {ModelGroup} cooling down for {Seconds}s after {FailureKind}")]
        public static partial void CoolingDown(ILogger logger, string deploymentId, string modelGroup, double seconds, UpstreamFailureKind failureKind);
    }
}
