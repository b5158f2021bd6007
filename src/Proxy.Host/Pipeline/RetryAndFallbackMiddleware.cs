using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Proxy.Abstractions;
using Proxy.Host.Observability;
using Proxy.Host.Routing;
using Proxy.LoadBalancing.Affinity;
using Proxy.LoadBalancing.Retry;
using Proxy.Transforms.Body;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Proxy.Host.Pipeline;

/// <summary>
/// LiteLLM's retries and fallbacks around YARP's load balancing: each attempt runs the rest of the proxy pipeline
/// (policy pick → passive health (cooldown) → one forward). Before the response has started, a failed attempt is
/// retried on another deployment of the group with LiteLLM's backoff; when the group is exhausted the request is
/// re-targeted at the fallback groups in order. Only when nothing is left is the last error written.
/// </summary>
internal sealed partial class RetryAndFallbackMiddleware(
    RequestDelegate next, IProxyStateLookup proxyState, IOpenAiErrorWriter errors, IRandomSource random, TimeProvider time, ILogger<RetryAndFallbackMiddleware> logger,
    SessionAffinity affinity, GatewayMetrics? metrics = null)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Features.GetRequiredFeature<GatewayRequestContext>();
        var state = context.Features.GetRequiredFeature<ProxyRequestState>();
        var options = state.Snapshot.Router;
        request.RequestedModelGroup = state.Group.Name;
        state.ActiveMockFlags = options.MockTestingFlags ? state.Scan.MockFlags : MockFlags.None;

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
            chain ??= state.Scan.DisableFallbacks ? [] : FallbackPlanner.For(state.Group.Name, request.FailureKind, options);
            ModelGroup? fallback = null;
            while (fallback is null && next < chain.Count)
            {
                state.Snapshot.Groups.TryGetValue(chain[next++], out fallback);
            }

            if (fallback is null)
            {
                await WriteFinalErrorAsync(context, request, chain);
                return;
            }

            Log.FallingBack(logger, request.CallId, group.Name, fallback.Name, request.FailureKind);
            request.AttemptedFallbacks++;
            // LiteLLM pops the mock_testing flags before it calls a fallback, so the fallback really answers.
            state.ActiveMockFlags = MockFlags.None;
            group = fallback;
        }
    }

    /// <returns>True when the request is finished (answered, or the client is gone); false when the group failed.</returns>
    private async Task<bool> RunGroupAsync(HttpContext context, GatewayRequestContext request, ProxyRequestState state, ModelGroup group, RouterOptions options)
    {
        if (!proxyState.TryGetCluster(group.ClusterId, out var cluster))
        {
            Fail(request, UpstreamFailureKind.ServiceUnavailable, NoDeploymentsError(group, options, []));
            return false;
        }

        if (!ReferenceEquals(context.GetReverseProxyFeature().Cluster, cluster.Model))
        {
            context.ReassignProxyRequest(cluster);
        }

        request.ModelGroup = group.Name;
        if (RaiseMockBeforeCall(request, state, group, options))
        {
            return false;
        }

        List<DestinationState>? tried = null;
        for (var attempt = 0; ; attempt++)
        {
            var candidates = Candidates(cluster.DestinationsState.AvailableDestinations, tried, state, request, options, out var contextWindowExceeded);
            if (candidates.Count == 0)
            {
                if (contextWindowExceeded)
                {
                    Fail(request, UpstreamFailureKind.ContextWindowExceeded, GatewayError.ContextWindowPreCheck(group.Name, request.EstimatedInputTokens));
                }
                else
                {
                    Fail(request, UpstreamFailureKind.RateLimit, NoDeploymentsError(group, options, cluster.DestinationsState.AllDestinations));
                }

                return false;
            }

            PrepareAttempt(context, request, candidates, options);
            // session_affinity / deployment_affinity: the pinned deployment, when it is among this attempt's candidates.
            affinity.TryApply(context, request);
            await next(context);
            if (metrics is not null && request.Deployment is { } attempted && context.GetReverseProxyFeature().ProxiedDestination is not null)
            {
                metrics.AttemptEnded(request, attempted);
            }

            if (context.Response.HasStarted || request.FailureKind == UpstreamFailureKind.None || context.RequestAborted.IsCancellationRequested)
            {
                return true;
            }

            var picked = context.GetReverseProxyFeature().ProxiedDestination;
            if (picked is null)
            {
                // No deployment was picked at all (every one over its rpm/tpm): retrying the same set cannot help.
                return false;
            }

            (tried ??= []).Add(picked);
            var allowed = RetryDecider.AllowedRetries(request.FailureKind, options, state.Scan.NumRetries);
            var remaining = cluster.DestinationsState.AvailableDestinations;
            if (attempt >= allowed || remaining.Count == 0)
            {
                // LiteLLM skips the remaining retries when the group has no healthy deployment left.
                return false;
            }

            if (!HasUntried(remaining, tried))
            {
                var wait = RetryDecider.Backoff(attempt, request.UpstreamError?.RetryAfterSeconds ?? 0, options.RetryAfterSeconds, random.NextDouble());
                Log.Retrying(logger, request.CallId, group.Name, attempt + 1, wait.TotalMilliseconds, request.FailureKind);
                await Task.Delay(wait, time, context.RequestAborted);
            }

            request.AttemptedRetries++;
            metrics?.Retried(group.Name);
        }
    }

    private static bool RaiseMockBeforeCall(GatewayRequestContext request, ProxyRequestState state, ModelGroup group, RouterOptions options)
    {
        var flags = state.ActiveMockFlags;
        if ((flags & MockFlags.TestingFallbacks) != 0)
        {
            var fallbacks = string.Join(", ", FallbackPlanner.For(group.Name, UpstreamFailureKind.InternalServer, options));
            Fail(request, UpstreamFailureKind.InternalServer, GatewayError.MockFallback(group.Name, fallbacks));
            return true;
        }

        if ((flags & MockFlags.TestingContextWindowFallbacks) != 0)
        {
            Fail(request, UpstreamFailureKind.ContextWindowExceeded, GatewayError.MockContextWindow(group.Name));
            return true;
        }

        if ((flags & MockFlags.TestingContentPolicyFallbacks) != 0)
        {
            Fail(request, UpstreamFailureKind.ContentPolicyViolation, GatewayError.MockContentPolicy(group.Name));
            return true;
        }

        return false;
    }

    /// <summary>The healthy deployments this attempt may use: not tried yet (unless all were), and big enough for the prompt.</summary>
    private static IReadOnlyList<DestinationState> Candidates(
        IReadOnlyList<DestinationState> available, List<DestinationState>? tried, ProxyRequestState state, GatewayRequestContext request,
        RouterOptions options, out bool contextWindowExceeded)
    {
        contextWindowExceeded = false;
        var checkContext = options.EnablePreCallChecks && request.EstimatedInputTokens > 0;
        if (tried is null && !checkContext)
        {
            return available;
        }

        var result = new List<DestinationState>(available.Count);
        var tooSmall = 0;
        foreach (var destination in available)
        {
            if (checkContext && TooSmall(destination, request.EstimatedInputTokens))
            {
                tooSmall++;
                continue;
            }

            if (tried is null || !tried.Contains(destination))
            {
                result.Add(destination);
            }
        }

        if (result.Count == 0 && tried is not null)
        {
            // Every usable deployment has been tried once: a retry may go to one of them again.
            foreach (var destination in available)
            {
                if (!(checkContext && TooSmall(destination, request.EstimatedInputTokens)))
                {
                    result.Add(destination);
                }
            }
        }

        contextWindowExceeded = result.Count == 0 && tooSmall > 0;
        return result;
    }

    private static bool TooSmall(DestinationState destination, int inputTokens) =>
        destination.Model.Config.Metadata is DeploymentMetadata { Deployment.MaxInputTokens: { } max } && inputTokens > max;

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
        request.FailureKind = UpstreamFailureKind.None;
        request.UpstreamError = null;
        request.CooledDown = false;
        request.UpstreamHeadersTimestamp = 0;
        var response = context.Response;
        if (response.StatusCode != StatusCodes.Status200OK || response.Headers.Count > 1)
        {
            // A failed attempt may have left the upstream's status and headers behind.
            response.Clear();
        }

        response.Headers[GatewayContextMiddleware.CallIdHeader] = request.CallId;
        response.Headers["x-litellm-attempted-retries"] = Number(request.AttemptedRetries);
        response.Headers["x-litellm-attempted-fallbacks"] = Number(request.AttemptedFallbacks);
        response.Headers["x-litellm-max-retries"] = Number(options.NumRetries);
    }

    private async Task WriteFinalErrorAsync(HttpContext context, GatewayRequestContext request, IReadOnlyList<string> chain)
    {
        if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        var error = request.UpstreamError ?? GatewayError.Internal();
        if (chain.Count > 0)
        {
            error = error with { Message = $"{error.Message}. Received Model Group={request.RequestedModelGroup}. Available Model Group Fallbacks=[{string.Join(", ", chain)}]" };
        }

        context.Response.Clear();
        context.Response.Headers[GatewayContextMiddleware.CallIdHeader] = request.CallId;
        context.Response.Headers["x-litellm-attempted-retries"] = Number(request.AttemptedRetries);
        context.Response.Headers["x-litellm-attempted-fallbacks"] = Number(request.AttemptedFallbacks);
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

    private static void Fail(GatewayRequestContext request, UpstreamFailureKind kind, GatewayError error)
    {
        request.FailureKind = kind;
        request.UpstreamError = error;
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
    }
}
