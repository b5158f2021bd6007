using Microsoft.AspNetCore.Http.Features;
using Proxy.Abstractions;
using Proxy.Host.Routing;
using Proxy.Transforms.Body;
using Proxy.Transforms.Mock;
using Proxy.Transforms.Providers;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Proxy.Host.Pipeline;

/// <summary>
/// Last stage of the proxy pipeline, in place of YARP's forwarder middleware: one attempt against the deployment the
/// load balancer picked. It answers mock requests, splices the body for that deployment and forwards with its
/// timeout. A failure before the first byte is recorded on the request (not written), so that the router can retry
/// or fall back; <see cref="RetryAndFallbackMiddleware"/> writes the error when nothing is left to try.
/// </summary>
internal sealed class UpstreamForwardingMiddleware(
    RequestDelegate next, GatewayState gateway, IHttpForwarder forwarder, OpenAiCompatibleTransformer transformer, IOpenAiErrorWriter errors, TimeProvider time)
{
    // Terminal: `next` is YARP's forwarder, which this middleware replaces.
    private readonly RequestDelegate _unused = next;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Features.GetRequiredFeature<GatewayRequestContext>();
        var state = context.Features.GetRequiredFeature<ProxyRequestState>();
        var attempt = request.Attempt;
        var proxy = context.GetReverseProxyFeature();
        var destinations = proxy.AvailableDestinations;
        // The eligibility step never hands over an empty set; a reload between it and here can.
        var destination = destinations.Count > 0 ? destinations[0] : null;
        // A reload may have changed the group between routing and the pick; the newest facts are the right ones then.
        DeploymentRoute? route = null;
        if (destination is null
            || (!state.Snapshot.Deployments.TryGetValue(destination.DestinationId, out route)
                && !gateway.Current.Deployments.TryGetValue(destination.DestinationId, out route)))
        {
            attempt.Fail(UpstreamFailureKind.ServiceUnavailable, RetryAndFallbackMiddleware.NoDeploymentsError(state.Group, gateway.Current.Router, proxy.AllDestinations));
            return;
        }

        var deployment = route.Deployment;
        proxy.ProxiedDestination = destination;
        attempt.Start(deployment, time.GetTimestamp());
        if (TryMock(state, deployment, out var mock))
        {
            // A mock answers instead of the deployment: its outcome is no fact about the deployment (no counters,
            // no latency, no cooldown), or one tenant's test could take a group out for everyone.
            attempt.MarkSimulated();
            await AnswerMockAsync(context, request, state, deployment, mock);
            return;
        }

        // The forward is awaited here rather than in a method of its own, which would box a second state machine.
        var stats = deployment.Stats;
        stats.RequestStarted(DeploymentStats.MinuteOf(time));
        var spliced = default(PooledBuffer);
        try
        {
            if (UpstreamBody.Set(context, state, request, deployment, out spliced) is { } unsupported)
            {
                // Another deployment of the group (or a fallback) may serve it; this one never will.
                attempt.Fail(UpstreamFailureKind.BadRequest, unsupported);
                return;
            }

            var config = request.Stream ? route.StreamRequestConfig : route.RequestConfig;
            var error = await forwarder.SendAsync(context, destination.Model.Config.Address, proxy.Cluster!.HttpClient, config, transformer);
            if (error != ForwarderError.None && !attempt.Failed && !context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                RecordForwarderError(context, attempt, error, config);
            }
        }
        finally
        {
            spliced.Dispose();
            stats.RequestFinished();
            RecordLatency(request, route);
        }
    }

    // The body's mock fields count only when the caller may mock; the operator's deployment mock_response always does.
    private static bool TryMock(ProxyRequestState state, Deployment deployment, out string? mock)
    {
        mock = (state.ClientMayMock ? state.Scan.MockResponse : null) ?? deployment.MockResponse;
        return mock is not null || (state.ActiveMockFlags & (MockFlags.TestingRateLimitError | MockFlags.Timeout)) != 0;
    }

    private async Task AnswerMockAsync(HttpContext context, GatewayRequestContext request, ProxyRequestState state, Deployment deployment, string? mock)
    {
        var attempt = request.Attempt;
        var flags = state.ActiveMockFlags;
        if ((flags & MockFlags.TestingRateLimitError) != 0)
        {
            attempt.Fail(UpstreamFailureKind.RateLimit, GatewayError.MockRateLimit(deployment.ModelGroup));
            return;
        }

        if ((flags & MockFlags.Timeout) != 0)
        {
            var wait = TimeSpan.FromSeconds(Math.Clamp(state.Scan.TimeoutSeconds ?? 1, 0, 60));
            await Task.Delay(wait, time, context.RequestAborted);
            attempt.Fail(UpstreamFailureKind.Timeout, GatewayError.UpstreamTimeout(deployment.ModelGroup, wait.TotalSeconds));
            return;
        }

        if (MockResponder.TryGetMockError(mock!, deployment.ModelGroup, out var mockError, out var kind))
        {
            attempt.Fail(kind, mockError);
            return;
        }

        await MockResponder.WriteAsync(context, request, mock!, state.Body.Length, time, errors);
    }

    private static void RecordForwarderError(HttpContext context, AttemptContext attempt, ForwarderError error, ForwarderRequestConfig config)
    {
        var deployment = attempt.Deployment!;
        if (error == ForwarderError.RequestTimedOut)
        {
            attempt.Fail(UpstreamFailureKind.Timeout, GatewayError.UpstreamTimeout(deployment.ModelGroup, (config.ActivityTimeout ?? TimeSpan.Zero).TotalSeconds));
            return;
        }

        var detail = context.GetForwarderErrorFeature()?.Exception?.Message ?? error.ToString();
        attempt.Fail(UpstreamFailureKind.Connection, GatewayError.UpstreamConnection(deployment.ModelGroup, deployment.ProviderLabel, detail));
    }

    private void RecordLatency(GatewayRequestContext request, DeploymentRoute route)
    {
        var stats = route.Deployment.Stats;
        var attempt = request.Attempt;
        var outcome = request.Outcome;
        var now = time.GetTimestamp();
        if (attempt.FailureKind == UpstreamFailureKind.Timeout)
        {
            // LiteLLM charges a timed-out deployment a large latency so that latency routing avoids it.
            stats.AddLatency((request.Stream ? route.Deployment.StreamTimeout : route.Deployment.Timeout).TotalSeconds, now);
            return;
        }

        if (attempt.Failed || attempt.HeadersTimestamp == 0)
        {
            return;
        }

        if (outcome.PromptTokens is { } prompt && outcome.CompletionTokens is { } completion)
        {
            stats.AddTokens(DeploymentStats.MinuteOf(time), prompt + completion);
        }

        // As LiteLLM: streams are judged by time to first token, other calls by seconds per output token.
        var end = request.Stream ? attempt.HeadersTimestamp : now;
        var seconds = time.GetElapsedTime(attempt.StartTimestamp, end).TotalSeconds;
        if (!request.Stream && outcome.CompletionTokens is > 0 and var tokens)
        {
            seconds /= tokens;
        }

        stats.AddLatency(seconds, now);
    }
}
