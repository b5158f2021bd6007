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

    // Client credentials and headers that must never reach an upstream. Accept-Encoding is dropped so that the
    // response stays readable for usage capture and error normalisation.
    private static readonly string[] StrippedRequestHeaders =
    [
        HeaderNames.Authorization, "api-key", "x-api-key", "x-litellm-api-key", "x-goog-api-key", "Ocp-Apim-Subscription-Key",
        HeaderNames.Cookie, HeaderNames.AcceptEncoding, HeaderNames.TransferEncoding,
    ];

    public override async ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        var request = httpContext.Features.GetRequiredFeature<GatewayRequestContext>();
        var deployment = request.Deployment!;
        proxyRequest.RequestUri = deployment.UriFor(request.Endpoint);
        var headers = proxyRequest.Headers;
        foreach (var name in StrippedRequestHeaders)
        {
            headers.Remove(name);
        }

        if (deployment.AuthorizationHeader is not null)
        {
            headers.TryAddWithoutValidation(HeaderNames.Authorization, deployment.AuthorizationHeader);
        }

        headers.TryAddWithoutValidation("x-litellm-call-id", request.CallId);
    }

    public override async ValueTask<bool> TransformResponseAsync(
        HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is null)
        {
            return await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        }

        var request = httpContext.Features.GetRequiredFeature<GatewayRequestContext>();
        var deployment = request.Deployment!;
        request.UpstreamHeadersTimestamp = time.GetTimestamp();
        if ((int)proxyResponse.StatusCode >= 400)
        {
            // Nothing has been sent yet: keep the error so the gateway can retry, fall back, or write it in OpenAI's shape.
            var (error, kind) = await UpstreamErrorReader.ReadAsync(proxyResponse, deployment, httpContext.RequestAborted);
            request.UpstreamError = error;
            request.FailureKind = kind;
            return false;
        }

        await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        var responseHeaders = httpContext.Response.Headers;
        responseHeaders["x-litellm-model-id"] = Http.HeaderValues.Safe(deployment.Id);
        responseHeaders["x-litellm-model-group"] = Http.HeaderValues.Safe(request.ModelGroup);
        if (deployment.ApiBase is not null)
        {
            responseHeaders["x-litellm-model-api-base"] = Http.HeaderValues.Safe(deployment.ApiBase);
        }

        var now = time.GetTimestamp();
        var elapsed = time.GetElapsedTime(request.StartTimestamp, now).TotalMilliseconds;
        responseHeaders["x-litellm-response-duration-ms"] = elapsed.ToString("0.###", CultureInfo.InvariantCulture);
        // The gateway's own share: everything before this attempt went upstream (parsing, routing, earlier attempts).
        var overhead = time.GetElapsedTime(request.StartTimestamp, request.AttemptStartTimestamp).TotalMilliseconds;
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
