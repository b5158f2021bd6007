using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Proxy.Abstractions;
using Microsoft.Extensions.ObjectPool;
using Proxy.Transforms.Streaming;
using Proxy.Transforms.Usage;
using Yarp.ReverseProxy.Forwarder;

namespace Proxy.Transforms.Providers;

/// <summary>
/// Request and response transform for OpenAI-compatible upstreams (vLLM, OpenAI): points the request at the
/// deployment's api_base, swaps the client's credentials for the deployment's, and on the way back normalises errors
/// and copies the body itself (see <see cref="ResponseCopier"/>).
/// </summary>
public sealed class OpenAiCompatibleTransformer(IOpenAiErrorWriter errors, TimeProvider time) : HttpTransformer
{
    // One observer per response in flight, reused: each carries a 2 KB tail buffer.
    private readonly ObjectPool<UsageObserver> _observers = new DefaultObjectPool<UsageObserver>(new DefaultPooledObjectPolicy<UsageObserver>(), 1024);

    // YARP's base transform copies every client header, Host included; an upstream gets an allow list instead
    // (UpstreamHeaders), its own authority as Host (HttpClient takes it from the URI), and the deployment's key.
    // Accept-Encoding is never sent, so the response stays readable for usage capture and error normalisation.
    public override ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        var request = httpContext.Features.GetRequiredFeature<GatewayRequestContext>();
        var attempt = request.Attempt;
        var deployment = attempt.Deployment!;
        proxyRequest.RequestUri = deployment.UriFor(request.Endpoint);
        if (proxyRequest.Content is { } content && httpContext.Request.ContentLength is { } length)
        {
            content.Headers.ContentLength = length;
        }

        if (UpstreamHeaders.CopyRequestHeaders(httpContext.Request.Headers, proxyRequest, deployment.ForwardClientHeaders, deployment.ClientKeyHeader))
        {
            attempt.MarkForwardedClientHeaders();
        }

        var headers = proxyRequest.Headers;
        if (deployment.AuthorizationHeader is not null)
        {
            headers.TryAddWithoutValidation(HeaderNames.Authorization, deployment.AuthorizationHeader);
        }

        headers.TryAddWithoutValidation("x-litellm-call-id", request.CallId);
        return default;
    }

    public override async ValueTask<bool> TransformResponseAsync(
        HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is null)
        {
            return await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        }

        var request = httpContext.Features.GetRequiredFeature<GatewayRequestContext>();
        var attempt = request.Attempt;
        var deployment = attempt.Deployment!;
        attempt.HeadersArrived(time.GetTimestamp());
        if ((int)proxyResponse.StatusCode >= 400)
        {
            // Nothing has been sent yet: keep the error so the gateway can retry, fall back, or write it in OpenAI's shape.
            var (error, kind) = await UpstreamErrorReader.ReadAsync(proxyResponse, deployment, httpContext.RequestAborted);
            attempt.Fail(kind, error);
            return false;
        }

        await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        var responseHeaders = httpContext.Response.Headers;
        UpstreamHeaders.StripResponseHeaders(responseHeaders);
        responseHeaders["x-litellm-model-id"] = Http.HeaderValues.Safe(deployment.Id);
        responseHeaders["x-litellm-model-group"] = Http.HeaderValues.Safe(attempt.ModelGroup);
        if (deployment.ApiBase is not null)
        {
            responseHeaders["x-litellm-model-api-base"] = Http.HeaderValues.Safe(deployment.ApiBase);
        }

        var now = time.GetTimestamp();
        var elapsed = time.GetElapsedTime(request.StartTimestamp, now).TotalMilliseconds;
        responseHeaders["x-litellm-response-duration-ms"] = elapsed.ToString("0.###", CultureInfo.InvariantCulture);
        // The gateway's own share: everything before this attempt went upstream (parsing, routing, earlier attempts).
        var overhead = time.GetElapsedTime(request.StartTimestamp, attempt.StartTimestamp).TotalMilliseconds;
        responseHeaders["x-litellm-overhead-duration-ms"] = overhead.ToString("0.###", CultureInfo.InvariantCulture);
        var isEventStream = IsEventStream(proxyResponse);
        var observer = _observers.Get();
        try
        {
            observer.Reset(isEventStream, hideUsageChunk: request.ForceStreamUsage && !request.ClientWantsUsage);
            await ResponseCopier.CopyAsync(httpContext, proxyResponse, request, isEventStream ? deployment.StreamTimeout : null, cancellationToken, errors, observer);
            observer.RecordUsage(request);
        }
        finally
        {
            _observers.Return(observer);
        }

        // The body has been written here; YARP must not copy it again.
        return false;
    }

    private static bool IsEventStream(HttpResponseMessage response) =>
        string.Equals(response.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase);
}
