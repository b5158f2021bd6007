using Microsoft.Net.Http.Headers;
using Proxy.Host.Config;
using Proxy.Transforms.Providers;
using Yarp.ReverseProxy.Forwarder;

namespace Proxy.Host.PassThrough;

/// <summary>
/// What a pass-through target gets: the configured <c>headers</c>; with <c>forward_headers</c>, the client's own
/// headers too, but never a credential meant for the gateway (its key headers, cookies), never Host or hop-by-hop
/// headers; without it only the body's Content-Type and Accept. The answer comes back as the target sent it, less
/// cookies, CORS grants and its server name, which must not act on the gateway's origin.
/// </summary>
internal sealed class PassThroughTransformer(Uri target, PassThroughEndpointConfig endpoint, string? customKeyHeader) : HttpTransformer
{
    private static readonly HashSet<string> NeverForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        HeaderNames.Authorization, HeaderNames.ProxyAuthorization, HeaderNames.Cookie, HeaderNames.Host,
        "api-key", "x-api-key", "x-litellm-api-key", "x-goog-api-key", "Ocp-Apim-Subscription-Key",
        HeaderNames.ContentLength, HeaderNames.ContentType, HeaderNames.TransferEncoding, HeaderNames.Connection,
        HeaderNames.Upgrade, HeaderNames.TE, "Keep-Alive", "Proxy-Connection", HeaderNames.Expect,
    };

    public override ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        proxyRequest.RequestUri = target;
        var incoming = httpContext.Request.Headers;
        if (proxyRequest.Content is { } content && incoming.ContentType.Count > 0)
        {
            content.Headers.TryAddWithoutValidation(HeaderNames.ContentType, incoming.ContentType.ToString());
        }

        if (endpoint.ForwardHeaders)
        {
            foreach (var (name, values) in incoming)
            {
                if (NeverForwarded.Contains(name) || (customKeyHeader is not null && name.Equals(customKeyHeader, StringComparison.OrdinalIgnoreCase))
                    || name.StartsWith(':'))
                {
                    continue;
                }

                proxyRequest.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }
        else if (incoming.Accept.Count > 0)
        {
            proxyRequest.Headers.TryAddWithoutValidation(HeaderNames.Accept, incoming.Accept.ToString());
        }

        foreach (var (name, value) in endpoint.Headers)
        {
            // The operator's headers win over the client's (LiteLLM merges them on top).
            if (name.Equals(HeaderNames.ContentType, StringComparison.OrdinalIgnoreCase))
            {
                if (proxyRequest.Content is { } body)
                {
                    body.Headers.Remove(HeaderNames.ContentType);
                    body.Headers.TryAddWithoutValidation(name, value.Value);
                }

                continue;
            }

            proxyRequest.Headers.Remove(name);
            proxyRequest.Headers.TryAddWithoutValidation(name, value.Value);
        }

        return default;
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var copy = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        UpstreamHeaders.StripResponseHeaders(httpContext.Response.Headers, proxyResponse);
        return copy;
    }
}
