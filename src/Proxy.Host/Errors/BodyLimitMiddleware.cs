using Microsoft.AspNetCore.Http.Features;
using Proxy.Abstractions;

namespace Proxy.Host.Errors;

/// <summary>
/// The server refuses request bodies over 1 MB on every route (model routes raise the limit to
/// general_settings.max_request_size_mb for themselves): a handler that reads past the limit gets Kestrel's
/// <see cref="BadHttpRequestException"/>, which <see cref="Pipeline.GatewayContextMiddleware"/> turns into an
/// OpenAI-shaped 413 (or 400) with <see cref="ErrorFor"/> instead of a 500. (It was a middleware of its own; one more
/// async layer per request for an exception that is rare.)
/// </summary>
internal static class BodyLimitMiddleware
{
    /// <summary>Kestrel's limit for every request body before a route raises it (bytes).</summary>
    public const long GlobalMaxRequestBodyBytes = 1024 * 1024;

    public static GatewayError ErrorFor(HttpContext context, BadHttpRequestException ex)
    {
        var limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? GlobalMaxRequestBodyBytes;
        return ex.StatusCode == StatusCodes.Status413PayloadTooLarge
            ? new GatewayError(413, "invalid_request_error", $"Request body is larger than this route's limit of {limit} bytes; send a smaller request.")
            : new GatewayError(ex.StatusCode is >= 400 and < 500 ? ex.StatusCode : 400, "invalid_request_error", "The request body could not be read: " + ex.Message);
    }
}
