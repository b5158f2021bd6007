using Proxy.Abstractions;
using Proxy.Host.Routing;
using Proxy.Transforms.Body;
using Proxy.Transforms.Multipart;

namespace Proxy.Host.Pipeline;

/// <summary>The multipart/form-data requests (audio): spooled rather than read into memory, routed by their model field.</summary>
internal sealed partial class ModelRoutingMiddleware
{
    private static bool IsMultipart(HttpContext context, OpenAiEndpoint endpoint) =>
        UpstreamPaths.IsMultipart(endpoint)
        // The /vllm pass-through takes vLLM's audio endpoints too, which are multipart.
        || (endpoint == OpenAiEndpoint.VllmPassThrough && context.Request.HasFormContentType && context.Request.ContentType!.Contains("multipart/", StringComparison.OrdinalIgnoreCase));

    private async Task RouteMultipartAsync(HttpContext context, GatewayRequestContext request, GatewaySnapshot snapshot)
    {
        MultipartReadResult read;
        try
        {
            read = await MultipartBodyReader.ReadAsync(context.Request, snapshot.MaxRequestBodyBytes, context.RequestAborted);
        }
        catch (BadHttpRequestException ex)
        {
            await errors.WriteAsync(context, Unreadable(ex));
            return;
        }

        if (read.Body is not { } multipart)
        {
            await errors.WriteAsync(context, read.Error!.Value);
            return;
        }

        await using (multipart)
        {
            // The recording's length bills a deployment priced per second (LiteLLM measures the file too).
            request.Outcome.SetBilledUnits(null, multipart.AudioSeconds);
            await RouteToGroupAsync(context, request, snapshot, multipart.Model, default, in NoScan, multipart);
        }
    }
}
