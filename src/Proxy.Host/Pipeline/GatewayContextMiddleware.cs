using Microsoft.AspNetCore.Connections;
using Proxy.Abstractions;
using Proxy.Host.Observability;
using Proxy.Transforms.Protocols;

namespace Proxy.Host.Pipeline;

/// <summary>
/// First middleware: gives every request its call id and <see cref="GatewayRequestContext"/>, turns unmatched routes
/// into OpenAI-shaped 404/405s, and is the one place where an unexpected exception becomes a 500 without details.
/// </summary>
internal sealed partial class GatewayContextMiddleware(
    RequestDelegate next, IOpenAiErrorWriter errors, TimeProvider time, ILogger<GatewayContextMiddleware> logger,
    IEnumerable<IRequestCompletionObserver> observers, InboundProtocols protocols, GatewayMetrics? metrics = null)
{
    // Pricing completes the outcome that metrics, the access log and the spend log then report (ObserverOrder).
    private readonly IRequestCompletionObserver[] _observers = [.. observers.OrderBy(observer => observer.Order)];

    public const string CallIdHeader = "x-litellm-call-id";

    public async Task InvokeAsync(HttpContext context)
    {
        var request = new GatewayRequestContext
        {
            CallId = CallIdFor(context.Request.Headers),
            StartTimestamp = time.GetTimestamp(),
            // Known before auth, so that even a missing key is answered in the client's protocol.
            Protocol = protocols.Detect(context.Request.Path),
        };
        context.Features.Set(request);
        context.Response.Headers[CallIdHeader] = request.CallId;
        metrics?.RequestStarted();
        try
        {
            await next(context);
            if (!context.Response.HasStarted && context.Response.StatusCode is 404 or 405 && context.Response.ContentType is null)
            {
                var error = context.Response.StatusCode == 404 ? GatewayError.NotFound(context.Request.Path.Value ?? "/") : GatewayError.MethodNotAllowed();
                await errors.WriteAsync(context, error);
            }
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            // A body over the route's limit, or one that could not be read.
            context.Response.Clear();
            context.Response.Headers[CallIdHeader] = request.CallId;
            await errors.WriteAsync(context, Errors.BodyLimitMiddleware.ErrorFor(context, ex));
        }
        catch (Exception ex) when (context.RequestAborted.IsCancellationRequested && ex is OperationCanceledException or IOException or ConnectionResetException)
        {
            // The client went away; nothing to answer and nothing to report.
        }
        catch (Exception ex)
        {
            Log.UnhandledException(logger, request.CallId, ex);
            if (context.Response.HasStarted)
            {
                context.Abort();
                return;
            }

            context.Response.Clear();
            context.Response.Headers[CallIdHeader] = request.CallId;
            await errors.WriteAsync(context, GatewayError.Internal());
        }
        finally
        {
            metrics?.RequestEnded();
            Complete(context, request);
        }
    }

    private void Complete(HttpContext context, GatewayRequestContext request)
    {
        foreach (var observer in _observers)
        {
            try
            {
                observer.OnCompleted(context, request);
            }
            catch (Exception ex)
            {
                // An observer's bug must not turn a served request into a failure.
                Log.ObserverFailed(logger, observer.GetType().Name, request.CallId, ex);
            }
        }
    }

    // Accept the caller's id so that its logs and ours line up, but only if it is short and printable.
    private static string CallIdFor(IHeaderDictionary headers)
    {
        var presented = headers[CallIdHeader].ToString();
        if (presented.Length == 0)
        {
            presented = headers["x-request-id"].ToString();
        }

        // Time-ordered (UUID v7): the spend log's primary key index then grows at its end instead of at random pages.
        return IsAcceptable(presented) ? presented : Guid.CreateVersion7().ToString();
    }

    private static bool IsAcceptable(string id)
    {
        if (id.Length is 0 or > 128)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (c is < '!' or > '~')
            {
                return false;
            }
        }

        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(1001, LogLevel.Error, "Unhandled exception while serving call {CallId}")]
        public static partial void UnhandledException(ILogger logger, string callId, Exception exception);

        [LoggerMessage(1002, LogLevel.Error, "Completion observer {Observer} failed for call {CallId}")]
        public static partial void ObserverFailed(ILogger logger, string observer, string callId, Exception exception);
    }
}
