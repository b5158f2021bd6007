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
/// Last stage of the proxy pipeline, in place of YARP's forwarder middleware: answers mock requests, splices the body
/// for the chosen deployment, forwards with that deployment's timeout, and turns failures before the first byte into
/// OpenAI-shaped errors.
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
            await errors.WriteAsync(context, GatewayError.NoDeployments(state.Group.Name));
            return;
        }

        var destination = destinations[0];
        // A reload may have changed the group between routing and the pick; the newest facts are the right ones then.
        if (!state.Snapshot.Deployments.TryGetValue(destination.DestinationId, out var route)
            && !gateway.Current.Deployments.TryGetValue(destination.DestinationId, out route))
        {
            await errors.WriteAsync(context, GatewayError.NoDeployments(state.Group.Name));
            return;
        }

        var deployment = route.Deployment;
        request.Deployment = deployment;
        proxy.ProxiedDestination = destination;

        var mock = state.Scan.MockResponse ?? deployment.MockResponse;
        if (mock is not null)
        {
            await AnswerWithMockAsync(context, request, state, mock);
            return;
        }

        var body = state.Body;
        PooledBuffer spliced = default;
        var forwarded = body;
        if (!BodySplicer.IsIdentity(state.Scan, body.Span, deployment.UpstreamModel, forceIncludeUsage: false))
        {
            spliced = BodySplicer.Splice(body.Span, state.Scan, deployment.UpstreamModel, forceIncludeUsage: false);
            forwarded = spliced;
        }

        try
        {
            context.Request.Body = new MemoryStream(forwarded.Array, 0, forwarded.Length, writable: false);
            context.Request.ContentLength = forwarded.Length;
            var config = request.Stream ? route.StreamRequestConfig : route.RequestConfig;
            var error = await forwarder.SendAsync(context, destination.Model.Config.Address, proxy.Cluster.HttpClient, config, transformer);
            await ReportFailureAsync(context, request, error, config);
        }
        finally
        {
            spliced.Dispose();
        }
    }

    private async Task ReportFailureAsync(HttpContext context, GatewayRequestContext request, ForwarderError error, ForwarderRequestConfig config)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        if (request.UpstreamError is { } upstreamError)
        {
            context.Response.Clear();
            context.Response.Headers[GatewayContextMiddleware.CallIdHeader] = request.CallId;
            await errors.WriteAsync(context, upstreamError);
            return;
        }

        if (error == ForwarderError.None || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        var group = request.ModelGroup ?? "";
        var deployment = request.Deployment!;
        GatewayError gatewayError;
        if (error == ForwarderError.RequestTimedOut)
        {
            request.FailureKind = UpstreamFailureKind.Timeout;
            gatewayError = GatewayError.UpstreamTimeout(group, (config.ActivityTimeout ?? TimeSpan.Zero).TotalSeconds);
        }
        else
        {
            request.FailureKind = UpstreamFailureKind.Connection;
            var detail = context.GetForwarderErrorFeature()?.Exception?.Message ?? error.ToString();
            gatewayError = GatewayError.UpstreamConnection(group, deployment.ProviderLabel, detail);
        }

        context.Response.Clear();
        context.Response.Headers[GatewayContextMiddleware.CallIdHeader] = request.CallId;
        await errors.WriteAsync(context, gatewayError);
    }

    private async Task AnswerWithMockAsync(HttpContext context, GatewayRequestContext request, ProxyRequestState state, string mock)
    {
        if (MockResponder.TryGetMockError(mock, state.Group.Name, out var mockError, out var kind))
        {
            request.FailureKind = kind;
            await errors.WriteAsync(context, mockError);
            return;
        }

        await MockResponder.WriteAsync(context, request, mock, state.Body.Length, request.ClientWantsUsage, time);
    }
}
