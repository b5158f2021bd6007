using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Proxy.Abstractions;
using Microsoft.Extensions.ObjectPool;
using Proxy.Transforms.Protocols;
using Proxy.Transforms.Protocols.Anthropic;
using Proxy.Transforms.Streaming;
using Proxy.Transforms.Usage;
using Yarp.ReverseProxy.Forwarder;

namespace Proxy.Transforms.Providers;

/// <summary>
/// Request and response transform for every deployment: points the request at the deployment's upstream URL for this
/// attempt, swaps the client's credentials for the deployment's key (in the header its provider reads), and on the way
/// back normalises errors and copies the body itself (see <see cref="ResponseCopier"/>). A deployment whose API is not
/// OpenAI's (anthropic/) has its answer read through that API's response unit (<see cref="TranslatedContent"/>), so
/// everything downstream sees chat; a native pass-through (a Messages client on a deployment that speaks Messages) is
/// copied as it is, its usage read in Anthropic's shape.
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

    private const string AnthropicVersionHeader = "anthropic-version";

    private const string AnthropicVersion = "2023-06-01";

    public override async ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        var request = httpContext.Features.GetRequiredFeature<GatewayRequestContext>();
        var deployment = request.Deployment!;
        proxyRequest.RequestUri = deployment.UriFor(UpstreamAttempt.EndpointFor(request, deployment));
        var headers = proxyRequest.Headers;
        foreach (var name in StrippedRequestHeaders)
        {
            headers.Remove(name);
        }

        if (deployment.AuthorizationHeader is not null)
        {
            headers.TryAddWithoutValidation(deployment.AuthHeaderName, deployment.AuthorizationHeader);
        }

        if (deployment.Api == UpstreamApi.AnthropicMessages && !headers.Contains(AnthropicVersionHeader))
        {
            // A native client's own anthropic-version (and anthropic-beta) go through; translated chat pins the version
            // the translation is written for.
            headers.TryAddWithoutValidation(AnthropicVersionHeader, AnthropicVersion);
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
        responseHeaders["x-litellm-model-id"] = deployment.Id;
        responseHeaders["x-litellm-model-group"] = request.ModelGroup;
        if (deployment.ApiBase is not null)
        {
            responseHeaders["x-litellm-model-api-base"] = deployment.ApiBase;
        }

        var now = time.GetTimestamp();
        var elapsed = time.GetElapsedTime(request.StartTimestamp, now).TotalMilliseconds;
        responseHeaders["x-litellm-response-duration-ms"] = elapsed.ToString("0.###", CultureInfo.InvariantCulture);
        // The gateway's own share: everything before this attempt went upstream (parsing, routing, earlier attempts).
        var overhead = time.GetElapsedTime(request.StartTimestamp, request.AttemptStartTimestamp).TotalMilliseconds;
        responseHeaders["x-litellm-overhead-duration-ms"] = overhead.ToString("0.###", CultureInfo.InvariantCulture);
        var isEventStream = IsEventStream(proxyResponse);
        var native = UpstreamAttempt.IsNativeMessages(request, deployment);
        request.AnswerInClientProtocol = native;
        var streamTranslator = UpstreamAttempt.TranslatesChat(request, deployment) ? ReadAsChat(httpContext, proxyResponse, isEventStream) : null;
        var observer = _observers.Get();
        try
        {
            observer.Reset(isEventStream, hideUsageChunk: !native && request.ForceStreamUsage && !request.ClientWantsUsage, anthropic: native);
            await ResponseCopier.CopyAsync(httpContext, proxyResponse, request, isEventStream ? deployment.StreamTimeout : null, cancellationToken, errors, observer);
            observer.RecordUsage(request);
        }
        finally
        {
            _observers.Return(observer);
        }

        if (streamTranslator?.StreamError is { } streamError)
        {
            // The answer had started; the client got chat's error event. The deployment still failed this attempt.
            request.FailureKind = streamError switch
            {
                "overloaded_error" => UpstreamFailureKind.ServiceUnavailable,
                "rate_limit_error" => UpstreamFailureKind.RateLimit,
                _ => UpstreamFailureKind.InternalServer,
            };
        }

        // The body has been written here; YARP must not copy it again.
        return false;
    }

    /// <summary>Puts the deployment's response unit between its body and the copier; returns the stream unit, if any.</summary>
    private MessagesToChatStreamTranslator? ReadAsChat(HttpContext httpContext, HttpResponseMessage proxyResponse, bool isEventStream)
    {
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        var stream = isEventStream ? new MessagesToChatStreamTranslator(created) : null;
        IResponseBodyTranslator translator = stream is null ? new MessagesToChatResponseTranslator(created) : stream;
        proxyResponse.Content = new TranslatedContent(proxyResponse.Content, translator);
        httpContext.Response.ContentLength = null;
        return stream;
    }

    private static bool IsEventStream(HttpResponseMessage response) =>
        string.Equals(response.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase);
}
