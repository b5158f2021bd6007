using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Proxy.Abstractions;
using Proxy.Host.Observability;
using Proxy.Host.Routing;
using Proxy.LoadBalancing.Affinity;
using Proxy.LoadBalancing.Eligibility;
using Proxy.LoadBalancing.Retry;
using Proxy.Transforms.Body;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Proxy.Host.Pipeline;

/// <summary>
/// LiteLLM's retries and fallbacks around YARP's load balancing. Each attempt first narrows the group to the
/// deployments that may serve it (<see cref="DeploymentEligibility"/>: healthy, untried, within limits, big enough,
/// lowest order), then runs the rest of the proxy pipeline (policy pick → passive health (cooldown) → one forward).
/// Before the response has started, a failed attempt is retried on another deployment of the group with LiteLLM's
/// backoff; when the group is exhausted the request is re-targeted at the fallback groups the caller may use, in
/// order. Only when nothing is left is the last error written.
/// </summary>
internal sealed partial class RetryAndFallbackMiddleware(
    RequestDelegate next, IProxyStateLookup proxyState, IOpenAiErrorWriter errors, IRandomSource random, TimeProvider time, ILogger<RetryAndFallbackMiddleware> logger,
    SessionAffinity affinity, GatewayMetrics? metrics = null, IVirtualKeyAuthenticator? keys = null)
{
    // One method for the whole request (the group loop inside the try): a separate RouteAsync would box a second state
    // machine per request.
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Features.GetRequiredFeature<GatewayRequestContext>();
        var state = context.Features.GetRequiredFeature<ProxyRequestState>();
        var options = state.Snapshot.Router;
        state.ActiveMockFlags = state.ClientMayMock ? state.Scan.MockFlags : MockFlags.None;
        try
        {
            var group = state.Group;
            IReadOnlyList<string>? chain = null;
            var next = 0;
            while (true)
            {
                if (await RunGroupAsync(context, request, state, group, options))
                {
                    return;
                }

                // LiteLLM picks the fallback list by what went wrong with the requested group.
                // A pinned request (a stored response lives on one deployment) has nowhere else to go.
                chain ??= state.Scan.DisableFallbacks || state.PinnedDeploymentId is not null
                    ? [] : FallbackPlanner.For(state.Group.Name, request.Attempt.FailureKind, options);
                var fallback = NextFallback(request, state, chain, ref next);
                if (fallback is null)
                {
                    await WriteFinalErrorAsync(context, request, chain);
                    return;
                }

                Log.FallingBack(logger, request.CallId, group.Name, fallback.Name, request.Attempt.FailureKind);
                request.Outcome.AttemptedFallbacks++;
                // LiteLLM pops the mock_testing flags before it calls a fallback, so the fallback really answers.
                state.ActiveMockFlags = MockFlags.None;
                state.Tried?.Clear();
                group = fallback;
            }
        }
        finally
        {
            request.Outcome.Finish(request.Attempt);
        }
    }

    // The next fallback group that exists and that the caller may use (general_settings.enforce_fallback_model_access,
    // on by default here): a key restricted to one group must not get answers from another by making the first fail.
    private ModelGroup? NextFallback(GatewayRequestContext request, ProxyRequestState state, IReadOnlyList<string> chain, ref int next)
    {
        var enforce = state.Snapshot.Config.GeneralSettings.EnforceFallbackModelAccess;
        while (next < chain.Count)
        {
            if (!state.Snapshot.Groups.TryGetValue(chain[next++], out var fallback))
            {
                continue;
            }

            if (enforce && keys is not null && !keys.AllowsModel(request, fallback.Name, fallback.Name))
            {
                Log.FallbackNotAllowed(logger, request.CallId, fallback.Name);
                continue;
            }

            return fallback;
        }

        return null;
    }

    /// <returns>True when the request is finished (answered, or the client is gone); false when the group failed.</returns>
    private async Task<bool> RunGroupAsync(HttpContext context, GatewayRequestContext request, ProxyRequestState state, ModelGroup group, RouterOptions options)
    {
        var attempt = request.Attempt;
        attempt.Begin(group.Name);
        if (!proxyState.TryGetCluster(group.ClusterId, out var cluster))
        {
            attempt.Fail(UpstreamFailureKind.ServiceUnavailable, NoDeploymentsError(group, options, []));
            return false;
        }

        if (!ReferenceEquals(context.GetReverseProxyFeature().Cluster, cluster.Model))
        {
            context.ReassignProxyRequest(cluster);
        }

        if (RaiseMockBeforeCall(attempt, state, group, options))
        {
            return false;
        }

        // A virtual key's own num_retries cannot exceed the router's: one tenant must not multiply the load on a group.
        var requestRetries = state.Scan.NumRetries is { } asked && !request.IsMasterKey ? Math.Min(asked, options.NumRetries) : state.Scan.NumRetries;
        for (var retry = 0; ; retry++)
        {
            if (retry > 0)
            {
                attempt.Begin(group.Name);
            }

            var query = new EligibilityQuery(request.EstimatedInputTokens, options.EnablePreCallChecks, DeploymentStats.MinuteOf(time), state.Tags);
            var available = cluster.DestinationsState.AvailableDestinations;
            if (state.PinnedDeploymentId is { } pinned && Pinned(available, cluster.DestinationsState.AllDestinations, pinned, group, options) is var (only, pinError))
            {
                if (pinError is { } refused)
                {
                    attempt.Fail(UpstreamFailureKind.ServiceUnavailable, refused);
                    return false;
                }

                available = only!;
            }

            var candidates = DeploymentEligibility.Select(available, state.Tried, query, ref state.Eligible, out var verdict);
            if (verdict != EligibilityVerdict.Eligible)
            {
                var error = IneligibleError(verdict, group, options, request, state, cluster.DestinationsState.AllDestinations);
                attempt.Fail(verdict switch
                {
                    EligibilityVerdict.ContextWindowExceeded => UpstreamFailureKind.ContextWindowExceeded,
                    _ when error.Status == 401 => UpstreamFailureKind.Authentication,
                    _ => UpstreamFailureKind.RateLimit,
                }, error);
                return false;
            }

            PrepareAttempt(context, request, candidates, options);
            // session_affinity / deployment_affinity: the pinned deployment, when it is among this attempt's candidates.
            affinity.TryApply(context, request);
            await next(context);
            var picked = context.GetReverseProxyFeature().ProxiedDestination;
            if (metrics is not null && attempt.Deployment is { } attempted && picked is not null)
            {
                metrics.AttemptEnded(request, attempted);
            }

            if (context.Response.HasStarted || !attempt.Failed || context.RequestAborted.IsCancellationRequested)
            {
                return true;
            }

            if (attempt.Deployment is { } failed)
            {
                Log.AttemptFailed(logger, request.CallId, failed.Id, group.Name, attempt.FailureKind, Reason(attempt.Error));
            }

            if (picked is null)
            {
                // No deployment was called (a reload removed it between the pick and the call): nothing to retry against.
                return false;
            }

            (state.Tried ??= []).Add(picked);
            var allowed = RetryDecider.AllowedRetries(attempt.FailureKind, options, requestRetries);
            var remaining = cluster.DestinationsState.AvailableDestinations;
            if (retry >= allowed || remaining.Count == 0)
            {
                // LiteLLM skips the remaining retries when the group has no healthy deployment left.
                return false;
            }

            if (!HasUntried(remaining, state.Tried))
            {
                var wait = RetryDecider.Backoff(retry, attempt.Error?.RetryAfterSeconds ?? 0, options.RetryAfterSeconds, random.NextDouble());
                Log.Retrying(logger, request.CallId, group.Name, retry + 1, wait.TotalMilliseconds, attempt.FailureKind);
                await Task.Delay(wait, time, context.RequestAborted);
            }

            request.Outcome.AttemptedRetries++;
            metrics?.Retried(group.Name);
        }
    }

    // The pinned deployment alone (a DestinationState is itself a list of one), or why it cannot serve: cooling down
    // (503 with its cooldown as Retry-After: another deployment would answer "not found") or gone in a reload.
    private static (IReadOnlyList<DestinationState>? Only, GatewayError? Error) Pinned(
        IReadOnlyList<DestinationState> available, IReadOnlyList<DestinationState> all, string deploymentId, ModelGroup group, RouterOptions options)
    {
        foreach (var destination in available)
        {
            if (string.Equals(destination.DestinationId, deploymentId, StringComparison.Ordinal))
            {
                return (destination, null);
            }
        }

        var seconds = (int)Math.Max(1, Math.Ceiling(options.CooldownTime.TotalSeconds));
        foreach (var destination in all)
        {
            if (string.Equals(destination.DestinationId, deploymentId, StringComparison.Ordinal))
            {
                return (null, new GatewayError(503, "service_unavailable",
                    $"Deployment '{deploymentId}' of model group '{group.Name}', which stores this response, is cooling down; try again in {seconds} seconds. No other deployment has the response.",
                    null, seconds));
            }
        }

        return (null, new GatewayError(404, "invalid_request_error",
            $"Deployment '{deploymentId}', which stores this response, is no longer in model group '{group.Name}'."));
    }

    private GatewayError IneligibleError(
        EligibilityVerdict verdict, ModelGroup group, RouterOptions options, GatewayRequestContext request, ProxyRequestState state, IReadOnlyList<DestinationState> all) => verdict switch
    {
        EligibilityVerdict.TagsNotMatched => TagRouting.NotMatched(group.Name, request, state.Tags, all, () => NoDeploymentsError(group, options, all)),
        EligibilityVerdict.ContextWindowExceeded => GatewayError.ContextWindowPreCheck(group.Name, request.EstimatedInputTokens),
        // Over rpm/tpm/parallel: the per-minute windows start over at the next minute, so that is when to come back.
        EligibilityVerdict.OverLimits => GatewayError.NoDeployments(group.Name, DeploymentEligibility.SecondsToNextMinute(time), options.EnablePreCallChecks, ""),
        _ => NoDeploymentsError(group, options, all),
    };

    private static bool RaiseMockBeforeCall(AttemptContext attempt, ProxyRequestState state, ModelGroup group, RouterOptions options)
    {
        var flags = state.ActiveMockFlags;
        if ((flags & MockFlags.TestingFallbacks) != 0)
        {
            var fallbacks = string.Join(", ", FallbackPlanner.For(group.Name, UpstreamFailureKind.InternalServer, options));
            attempt.MarkSimulated();
            attempt.Fail(UpstreamFailureKind.InternalServer, GatewayError.MockFallback(group.Name, fallbacks));
            return true;
        }

        if ((flags & MockFlags.TestingContextWindowFallbacks) != 0)
        {
            attempt.MarkSimulated();
            attempt.Fail(UpstreamFailureKind.ContextWindowExceeded, GatewayError.MockContextWindow(group.Name));
            return true;
        }

        if ((flags & MockFlags.TestingContentPolicyFallbacks) != 0)
        {
            attempt.MarkSimulated();
            attempt.Fail(UpstreamFailureKind.ContentPolicyViolation, GatewayError.MockContentPolicy(group.Name));
            return true;
        }

        return false;
    }

    private static bool HasUntried(IReadOnlyList<DestinationState> remaining, List<DestinationState> tried)
    {
        foreach (var destination in remaining)
        {
            if (!tried.Contains(destination))
            {
                return true;
            }
        }

        return false;
    }

    private static void PrepareAttempt(HttpContext context, GatewayRequestContext request, IReadOnlyList<DestinationState> candidates, RouterOptions options)
    {
        var proxy = context.GetReverseProxyFeature();
        proxy.AvailableDestinations = candidates;
        proxy.ProxiedDestination = null;
        var response = context.Response;
        if (response.StatusCode != StatusCodes.Status200OK || response.Headers.Count > 1)
        {
            // A failed attempt may have left the upstream's status and headers behind.
            response.Clear();
        }

        var outcome = request.Outcome;
        response.Headers[GatewayContextMiddleware.CallIdHeader] = request.CallId;
        response.Headers["x-litellm-attempted-retries"] = Number(outcome.AttemptedRetries);
        response.Headers["x-litellm-attempted-fallbacks"] = Number(outcome.AttemptedFallbacks);
        response.Headers["x-litellm-max-retries"] = Number(options.NumRetries);
    }

    private async Task WriteFinalErrorAsync(HttpContext context, GatewayRequestContext request, IReadOnlyList<string> chain)
    {
        if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        var error = request.Attempt.Error ?? GatewayError.Internal();
        if (chain.Count > 0)
        {
            error = error with { Message = $"{error.Message}. Received Model Group={request.ModelGroup}. Available Model Group Fallbacks=[{string.Join(", ", chain)}]" };
        }

        var outcome = request.Outcome;
        context.Response.Clear();
        context.Response.Headers[GatewayContextMiddleware.CallIdHeader] = request.CallId;
        context.Response.Headers["x-litellm-attempted-retries"] = Number(outcome.AttemptedRetries);
        context.Response.Headers["x-litellm-attempted-fallbacks"] = Number(outcome.AttemptedFallbacks);
        await errors.WriteAsync(context, error);
    }

    internal static GatewayError NoDeploymentsError(ModelGroup group, RouterOptions options, IReadOnlyList<DestinationState> all)
    {
        var cooling = new List<string>();
        foreach (var destination in all)
        {
            if (destination.Health.Passive == DestinationHealth.Unhealthy)
            {
                cooling.Add(destination.DestinationId);
            }
        }

        var seconds = (int)Math.Max(1, Math.Ceiling(options.CooldownTime.TotalSeconds));
        return GatewayError.NoDeployments(group.Name, seconds, options.EnablePreCallChecks, string.Join(", ", cooling));
    }

    // One short line per failed attempt: the error's first sentence-sized piece, never a stack trace.
    private static string Reason(GatewayError? error)
    {
        var message = error?.Message ?? "unknown";
        return message.Length <= 200 ? message : string.Concat(message.AsSpan(0, 200), "…");
    }

    private static string Number(int value) => value switch
    {
        0 => "0",
        1 => "1",
        _ => value.ToString(CultureInfo.InvariantCulture),
    };

    private static partial class Log
    {
        [LoggerMessage(1201, LogLevel.Information, "Call {CallId}: retry {Retry} in group {ModelGroup} after {WaitMs} ms ({FailureKind})")]
        public static partial void Retrying(ILogger logger, string callId, string modelGroup, int retry, double waitMs, UpstreamFailureKind failureKind);

        [LoggerMessage(1202, LogLevel.Information, "Call {CallId}: falling back from {ModelGroup} to {Fallback} ({FailureKind})")]
        public static partial void FallingBack(ILogger logger, string callId, string modelGroup, string fallback, UpstreamFailureKind failureKind);

        [LoggerMessage(1203, LogLevel.Warning, "Call {CallId}: attempt on deployment {DeploymentId} of {ModelGroup} failed ({FailureKind}): {Reason}")]
        public static partial void AttemptFailed(ILogger logger, string callId, string deploymentId, string modelGroup, UpstreamFailureKind failureKind, string reason);

        [LoggerMessage(1204, LogLevel.Information, "Call {CallId}: skipping fallback {Fallback}, which the caller's key may not use")]
        public static partial void FallbackNotAllowed(ILogger logger, string callId, string fallback);
    }
}
