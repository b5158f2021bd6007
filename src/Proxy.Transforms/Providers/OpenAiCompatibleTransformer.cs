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

    private const string AnthropicVersionHeader = "anthropic-version";

    private const string AnthropicBetaHeader = "anthropic-beta";

    private const string AnthropicVersion = "2023-06-01";

    // YARP's base transform copies every client header, Host included; an upstream gets an allow list instead
    // (UpstreamHeaders), its own authority as Host (HttpClient takes it from the URI), and the deployment's key.
    // Accept-Encoding is never sent, so the response stays readable for usage capture and error normalisation.
    public override ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        var request = httpContext.Features.GetRequiredFeature<GatewayRequestContext>();
        var attempt = request.Attempt;
        var deployment = attempt.Deployment!;
        proxyRequest.RequestUri = request.PassThroughPath is { } path ? deployment.UriForPath(path) : deployment.UriFor(UpstreamAttempt.EndpointFor(request, deployment));
        if (request.UpstreamPathSuffix is { } suffix && proxyRequest.RequestUri is { } operationBase)
        {
            // An operation on a stored object (a Responses API response): its upstream id and action follow the base.
            proxyRequest.RequestUri = new Uri(operationBase.AbsoluteUri + suffix, UriKind.Absolute);
        }
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
            headers.TryAddWithoutValidation(deployment.AuthHeaderName, deployment.AuthorizationHeader);
        }

        if (UpstreamAttempt.IsNativeMessages(request, deployment))
        {
            // Both ends speak Messages: the client's version and betas are part of the protocol, not its credentials.
            CopyHeader(httpContext.Request.Headers, headers, AnthropicVersionHeader);
            CopyHeader(httpContext.Request.Headers, headers, AnthropicBetaHeader);
        }

        if (deployment.Api == UpstreamApi.AnthropicMessages && !headers.Contains(AnthropicVersionHeader))
        {
            // Translated chat pins the version the translation is written for.
            headers.TryAddWithoutValidation(AnthropicVersionHeader, AnthropicVersion);
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
        UpstreamHeaders.StripResponseHeaders(responseHeaders, proxyResponse);
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
        var native = UpstreamAttempt.IsNativeMessages(request, deployment);
        if (native)
        {
            attempt.MarkAnswerInClientProtocol();
        }

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
            attempt.FailAfterStart(streamError switch
            {
                "overloaded_error" => UpstreamFailureKind.ServiceUnavailable,
                "rate_limit_error" => UpstreamFailureKind.RateLimit,
                _ => UpstreamFailureKind.InternalServer,
            });
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

    private static void CopyHeader(IHeaderDictionary from, System.Net.Http.Headers.HttpRequestHeaders to, string name)
    {
        if (from.TryGetValue(name, out var values) && values.Count > 0 && !to.Contains(name))
        {
            to.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        }
    }

    // Read from the raw value: ContentType would parse (and allocate) a MediaTypeHeaderValue on every response.
    private static bool IsEventStream(HttpResponseMessage response)
    {
        if (!response.Content.Headers.NonValidated.TryGetValues(HeaderNames.ContentType, out var values) || values.Count == 0)
        {
            return false;
        }

        var value = values.ToString().AsSpan();
        var end = value.IndexOf(';');
        return (end < 0 ? value : value[..end]).Trim().Equals("text/event-stream", StringComparison.OrdinalIgnoreCase);
    }
}
