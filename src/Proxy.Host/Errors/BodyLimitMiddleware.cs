using Microsoft.AspNetCore.Http.Features;
using Proxy.Abstractions;

namespace Proxy.Host.Errors;

/// <summary>
/// The server refuses request bodies over 1 MB on every route (model routes raise the limit to
/// general_settings.max_request_size_mb for themselves): a handler that reads past the limit gets Kestrel's
/// <see cref="BadHttpRequestException"/>, which becomes an OpenAI-shaped 413 (or 400) here instead of a 500.
/// </summary>
internal sealed class BodyLimitMiddleware(RequestDelegate next, IOpenAiErrorWriter errors)
{
    /// <summary>Kestrel's limit for every request body before a route raises it (bytes).</summary>
    public const long GlobalMaxRequestBodyBytes = 1024 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            context.Response.Clear();
            var limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? GlobalMaxRequestBodyBytes;
            await errors.WriteAsync(context, ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? new GatewayError(413, "invalid_request_error", $"Request body is larger than this route's limit of {limit} bytes; send a smaller request.")
                : new GatewayError(ex.StatusCode is >= 400 and < 500 ? ex.StatusCode : 400, "invalid_request_error", "The request body could not be read: " + ex.Message));
        }
    }
}
