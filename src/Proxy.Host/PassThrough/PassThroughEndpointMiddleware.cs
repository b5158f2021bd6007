using System.Net;
using Microsoft.AspNetCore.Http.Features;
using Proxy.Abstractions;
using Proxy.Host.Config;
using Proxy.Host.Routing;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;

namespace Proxy.Host.PassThrough;

/// <summary>
/// First in the proxy pipeline: a request on one of <c>general_settings.pass_through_endpoints</c> is forwarded to
/// its target here, and the model pipeline (body reading, routing, spend) never sees it. Authentication already ran:
/// <c>auth: true</c> routes needed a virtual key or the master key, the others are anonymous, as in LiteLLM.
/// </summary>
internal sealed partial class PassThroughEndpointMiddleware(
    RequestDelegate next, GatewayState state, IHttpForwarder forwarder, PassThroughClient client, IOpenAiErrorWriter errors, ILogger<PassThroughEndpointMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var route = context.GetRouteModel().Config;
        if (route.Metadata is null || !route.Metadata.ContainsKey(PassThroughRoutes.MetadataKey))
        {
            return next(context);
        }

        var snapshot = state.Current;
        var endpoint = PassThroughRoutes.Find(snapshot.Config.GeneralSettings.PassThroughEndpoints, route);
        if (endpoint is null)
        {
            // A reload removed it between routing and now.
            return errors.WriteAsync(context, GatewayError.NotFound(context.Request.Path.Value ?? "/"));
        }

        return ForwardAsync(context, endpoint, snapshot);
    }

    private async Task ForwardAsync(HttpContext context, PassThroughEndpointConfig endpoint, GatewaySnapshot snapshot)
    {
        // The body streams through to the target, bounded like a model route's (general_settings.max_request_size_mb).
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = snapshot.MaxRequestBodyBytes;
        }

        var target = TargetUri(context, endpoint);
        var config = new ForwarderRequestConfig
        {
            ActivityTimeout = TimeSpan.FromSeconds(Math.Clamp(snapshot.Config.LitellmSettings.RequestTimeout, 1, 86_400)),
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        var transformer = new PassThroughTransformer(target, endpoint, snapshot.Config.GeneralSettings.LitellmKeyHeaderName);
        var error = await forwarder.SendAsync(context, target.GetLeftPart(UriPartial.Authority), client.Invoker, config, transformer);
        if (error == ForwarderError.None || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        var detail = context.GetForwarderErrorFeature()?.Exception?.Message ?? error.ToString();
        Log.Failed(logger, endpoint.Path, error, detail);
        context.Response.Clear();
        await errors.WriteAsync(context, error == ForwarderError.RequestTimedOut
            ? new GatewayError(504, "timeout", $"The pass-through target of {endpoint.Path} did not answer in time.")
            : new GatewayError(502, "api_connection_error", $"The pass-through target of {endpoint.Path} could not be reached: {detail}"));
    }

    /// <summary>The target, with the sub-path below the endpoint's path (include_subpath) and the query, as the client sent them.</summary>
    internal static Uri TargetUri(HttpContext context, PassThroughEndpointConfig endpoint)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.ToUriComponent();
        var queryAt = raw.IndexOf('?', StringComparison.Ordinal);
        var rawPath = queryAt < 0 ? raw : raw[..queryAt];
        var suffix = "";
        if (endpoint.IncludeSubpath)
        {
            // The raw path keeps the client's own encoding of the sub-path; fall back to the decoded path otherwise.
            suffix = rawPath.StartsWith(endpoint.Path, StringComparison.OrdinalIgnoreCase)
                ? rawPath[endpoint.Path.Length..]
                : context.Request.Path.ToUriComponent()[endpoint.Path.Length..];
        }

        var builder = new UriBuilder(endpoint.Target);
        if (suffix.Length > 0)
        {
            builder.Path = builder.Path.TrimEnd('/') + "/" + suffix.TrimStart('/');
        }

        var query = context.Request.QueryString;
        if (query.HasValue)
        {
            builder.Query = string.IsNullOrEmpty(builder.Query) ? query.Value![1..] : builder.Query[1..] + "&" + query.Value![1..];
        }

        return builder.Uri;
    }

    private static partial class Log
    {
        [LoggerMessage(1301, LogLevel.Warning, "Pass-through {Path} failed ({Error}): {Detail}")]
        public static partial void Failed(ILogger logger, string path, ForwarderError error, string detail);
    }
}
