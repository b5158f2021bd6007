using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Proxy.Transforms.Providers;

/// <summary>
/// Which client request headers reach an upstream, and which upstream response headers reach the client. Requests: an
/// allow list, not a deny list: the content type and Accept always; <c>x-pass-NAME</c> always, as NAME (LiteLLM); and,
/// only where the operator turned on forward_client_headers_to_llm_api for the group, LiteLLM's rule: headers starting
/// with <c>x-</c> (but <c>x-stainless-*</c>) and <c>anthropic-beta</c>. A credential never goes, whatever its name.
/// Responses: cookies, CORS grants, the upstream's organisation and server name stay behind.
/// </summary>
public static class UpstreamHeaders
{
    /// <summary>
    /// Headers that carry a caller's credentials or the gateway's own controls. Checked after an x-pass- prefix is
    /// stripped, so "x-pass-authorization" cannot smuggle a key either.
    /// </summary>
    private static readonly HashSet<string> Never = new(StringComparer.OrdinalIgnoreCase)
    {
        HeaderNames.Authorization, HeaderNames.ProxyAuthorization, HeaderNames.Cookie, HeaderNames.Host,
        "api-key", "x-api-key", "x-litellm-api-key", "x-goog-api-key", "Ocp-Apim-Subscription-Key",
        HeaderNames.ContentLength, HeaderNames.ContentType, HeaderNames.TransferEncoding, HeaderNames.AcceptEncoding,
        HeaderNames.Connection, HeaderNames.Upgrade, HeaderNames.TE, "Keep-Alive", "Proxy-Connection",
        "x-litellm-call-id",
    };

    private const string PassPrefix = "x-pass-";

    /// <summary>
    /// Copies the allowed client headers onto <paramref name="proxyRequest"/>.
    /// </summary>
    /// <param name="customKeyHeader">general_settings.litellm_key_header_name: a credential too.</param>
    /// <returns>True when any header beyond content type and Accept was forwarded (the client's headers may explain a 401/403).</returns>
    public static bool CopyRequestHeaders(IHeaderDictionary incoming, HttpRequestMessage proxyRequest, bool forwardClientHeaders, string? customKeyHeader)
    {
        if (proxyRequest.Content is { } content)
        {
            var contentType = incoming.ContentType;
            if (contentType.Count > 0)
            {
                content.Headers.TryAddWithoutValidation(HeaderNames.ContentType, contentType.ToString());
            }
        }

        var accept = incoming.Accept;
        if (accept.Count > 0)
        {
            proxyRequest.Headers.TryAddWithoutValidation(HeaderNames.Accept, accept.ToString());
        }

        var forwarded = false;
        foreach (var (name, values) in incoming)
        {
            // Nearly every request has only standard headers: one length and first-letter test each.
            if (name.Length < 3 || (name[0] | 0x20) != 'x' || name[1] != '-')
            {
                if (forwardClientHeaders && name.Equals("anthropic-beta", StringComparison.OrdinalIgnoreCase))
                {
                    forwarded |= proxyRequest.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
                }

                continue;
            }

            var target = name;
            if (name.StartsWith(PassPrefix, StringComparison.OrdinalIgnoreCase))
            {
                target = name[PassPrefix.Length..];
            }
            else if (!forwardClientHeaders || name.StartsWith("x-stainless-", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("x-litellm-", StringComparison.OrdinalIgnoreCase))
            {
                // LiteLLM's own control headers (x-litellm-*) are for the gateway, not for the model server.
                continue;
            }

            // X-Forwarded-* would tell the upstream who the client is (its address, the gateway's public host).
            if (target.Length == 0 || Never.Contains(target) || target.StartsWith("x-forwarded-", StringComparison.OrdinalIgnoreCase)
                || (customKeyHeader is not null && (target.Equals(customKeyHeader, StringComparison.OrdinalIgnoreCase) || name.Equals(customKeyHeader, StringComparison.OrdinalIgnoreCase))))
            {
                continue;
            }

            forwarded |= proxyRequest.Headers.TryAddWithoutValidation(target, (IEnumerable<string?>)values);
        }

        return forwarded;
    }

    /// <summary>
    /// Removes what an upstream must not set on the gateway's own origin: cookies, CORS grants, its organisation and server.
    /// The CORS names are looked for in the upstream's own headers (what YARP copied): enumerating the response's header
    /// dictionary would build a set of its names on every response.
    /// </summary>
    public static void StripResponseHeaders(IHeaderDictionary headers, HttpResponseMessage? upstream)
    {
        headers.Remove(HeaderNames.SetCookie);
        headers.Remove(HeaderNames.Server);
        headers.Remove("openai-organization");
        if (upstream is null)
        {
            return;
        }

        RemoveCors(headers, upstream.Headers.NonValidated);
        RemoveCors(headers, upstream.Content.Headers.NonValidated);
    }

    private static void RemoveCors(IHeaderDictionary headers, System.Net.Http.Headers.HttpHeadersNonValidated upstream)
    {
        foreach (var (name, _) in upstream)
        {
            if (name.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase))
            {
                headers.Remove(name);
            }
        }
    }
}
