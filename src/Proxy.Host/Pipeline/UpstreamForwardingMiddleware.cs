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
        var proxy = context.GetReverseProxyFeature();
        var destinations = proxy.AvailableDestinations;
        if (destinations.Count == 0)
        {
            // The strategy found no deployment within its rpm/tpm limits.
            request.FailureKind = UpstreamFailureKind.RateLimit;
            request.UpstreamError = RetryAndFallbackMiddleware.NoDeploymentsError(state.Group, gateway.Current.Router, proxy.AllDestinations);
            return;
        }

        var destination = destinations[0];
        // A reload may have changed the group between routing and the pick; the newest facts are the right ones then.
        if (!state.Snapshot.Deployments.TryGetValue(destination.DestinationId, out var route)
            && !gateway.Current.Deployments.TryGetValue(destination.DestinationId, out route))
        {
            request.FailureKind = UpstreamFailureKind.ServiceUnavailable;
            request.UpstreamError = RetryAndFallbackMiddleware.NoDeploymentsError(state.Group, gateway.Current.Router, proxy.AllDestinations);
            return;
        }

        var deployment = route.Deployment;
        request.Deployment = deployment;
        proxy.ProxiedDestination = destination;
        var stats = deployment.Stats;
        stats.RequestStarted(DeploymentStats.MinuteOf(time));
        request.AttemptStartTimestamp = time.GetTimestamp();
        try
        {
            await AttemptAsync(context, request, state, route);
        }
        finally
        {
            stats.RequestFinished();
            RecordLatency(request, route);
        }
    }

    private async Task AttemptAsync(HttpContext context, GatewayRequestContext request, ProxyRequestState state, DeploymentRoute route)
    {
        var deployment = route.Deployment;
        var flags = state.ActiveMockFlags;
        if ((flags & MockFlags.TestingRateLimitError) != 0)
        {
            // LiteLLM raises this inside the deployment call, so it counts toward cooldown like a real 429.
            Fail(request, UpstreamFailureKind.RateLimit, GatewayError.MockRateLimit(deployment.ModelGroup));
            return;
        }

        if ((flags & MockFlags.Timeout) != 0)
        {
            var wait = TimeSpan.FromSeconds(Math.Clamp(state.Scan.TimeoutSeconds ?? 1, 0, 60));
            await Task.Delay(wait, time, context.RequestAborted);
            Fail(request, UpstreamFailureKind.Timeout, GatewayError.UpstreamTimeout(deployment.ModelGroup, wait.TotalSeconds));
            return;
        }

        var mock = state.Scan.MockResponse ?? deployment.MockResponse;
        if (mock is not null)
        {
            if (MockResponder.TryGetMockError(mock, deployment.ModelGroup, out var mockError, out var kind))
            {
                Fail(request, kind, mockError);
                return;
            }

            await MockResponder.WriteAsync(context, request, mock, state.Body.Length, time, errors);
            return;
        }

        if (UpstreamBody.Build(state, request, deployment, out var spliced, out var forwarded) is { } unsupported)
        {
            // Another deployment of the group (or a fallback) may serve it; this one never will.
            Fail(request, UpstreamFailureKind.BadRequest, unsupported);
            return;
        }

        try
        {
            context.Request.Body = new MemoryStream(forwarded.Array, 0, forwarded.Length, writable: false);
            context.Request.ContentLength = forwarded.Length;
            var config = request.Stream ? route.StreamRequestConfig : route.RequestConfig;
            var proxy = context.GetReverseProxyFeature();
            var error = await forwarder.SendAsync(context, proxy.ProxiedDestination!.Model.Config.Address, proxy.Cluster.HttpClient, config, transformer);
            if (error != ForwarderError.None && request.UpstreamError is null && !context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                RecordForwarderError(context, request, error, config);
            }
        }
        finally
        {
            spliced.Dispose();
        }
    }

    private static void RecordForwarderError(HttpContext context, GatewayRequestContext request, ForwarderError error, ForwarderRequestConfig config)
    {
        var deployment = request.Deployment!;
        if (error == ForwarderError.RequestTimedOut)
        {
            Fail(request, UpstreamFailureKind.Timeout, GatewayError.UpstreamTimeout(deployment.ModelGroup, (config.ActivityTimeout ?? TimeSpan.Zero).TotalSeconds));
            return;
        }

        var detail = context.GetForwarderErrorFeature()?.Exception?.Message ?? error.ToString();
        Fail(request, UpstreamFailureKind.Connection, GatewayError.UpstreamConnection(deployment.ModelGroup, deployment.ProviderLabel, detail));
    }

    private static void Fail(GatewayRequestContext request, UpstreamFailureKind kind, GatewayError error)
    {
        request.FailureKind = kind;
        request.UpstreamError = error;
    }

    private void RecordLatency(GatewayRequestContext request, DeploymentRoute route)
    {
        var stats = route.Deployment.Stats;
        var now = time.GetTimestamp();
        if (request.FailureKind == UpstreamFailureKind.Timeout)
        {
            // LiteLLM charges a timed-out deployment a large latency so that latency routing avoids it.
            stats.AddLatency((request.Stream ? route.Deployment.StreamTimeout : route.Deployment.Timeout).TotalSeconds, now);
            return;
        }

        if (request.FailureKind != UpstreamFailureKind.None || request.UpstreamHeadersTimestamp == 0)
        {
            return;
        }

        if (request.PromptTokens is { } prompt && request.CompletionTokens is { } completion)
        {
            stats.AddTokens(DeploymentStats.MinuteOf(time), prompt + completion);
        }

        // As LiteLLM: streams are judged by time to first token, other calls by seconds per output token.
        var end = request.Stream ? request.UpstreamHeadersTimestamp : now;
        var seconds = time.GetElapsedTime(request.AttemptStartTimestamp, end).TotalSeconds;
        if (!request.Stream && request.CompletionTokens is > 0 and var tokens)
        {
            seconds /= tokens;
        }

        stats.AddLatency(seconds, now);
    }
}
