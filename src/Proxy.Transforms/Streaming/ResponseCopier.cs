using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Proxy.Transforms.Usage;

namespace Proxy.Transforms.Streaming;

/// <summary>
/// Copies a successful upstream body to the client as it arrives, flushing every read, so SSE is never buffered.
/// It replaces YARP's own copy because a failure after the first byte must end an SSE stream with an error event
/// (YARP would reset the connection) and because later stages observe the bytes (usage, cache, guardrails).
/// </summary>
public static class ResponseCopier
{
    private const int MinimumReadSize = 4096;

    /// <returns>True when the whole body was copied; false when the upstream failed or the client went away.</returns>
    /// <param name="idleTimeout">For streams: the longest wait for the next piece. Null for JSON bodies, which arrive right
    /// behind their headers and are bounded by <paramref name="bodyTimeout"/> (YARP's activity token) instead.</param>
    public static async ValueTask<bool> CopyAsync(
        HttpContext context, HttpResponseMessage upstream, GatewayRequestContext request, TimeSpan? idleTimeout, CancellationToken bodyTimeout,
        IOpenAiErrorWriter errors, UsageObserver observer)
    {
        var clientAborted = context.RequestAborted;
        var writer = context.Response.BodyWriter;
        Stream? source = null;
        // Only streams pay for their own timer; a JSON body rides on YARP's activity timeout.
        using var idle = idleTimeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(clientAborted);
        var readToken = idle?.Token ?? bodyTimeout;
        try
        {
            Restart(idle, idleTimeout);
            source = await upstream.Content.ReadAsStreamAsync(readToken);
            while (true)
            {
                var memory = writer.GetMemory(MinimumReadSize);
                int read;
                try
                {
                    Restart(idle, idleTimeout);
                    read = await source.ReadAsync(memory, readToken);
                }
                catch (Exception ex) when (!clientAborted.IsCancellationRequested && IsUpstreamFailure(ex))
                {
                    await EndWithErrorAsync(context, request, errors, timedOut: readToken.IsCancellationRequested, idleTimeout ?? TimeSpan.Zero);
                    return false;
                }

                if (read == 0)
                {
                    break;
                }

                observer.Observe(memory.Span[..read]);
                writer.Advance(read);
                var flush = await writer.FlushAsync(clientAborted);
                if (flush.IsCanceled || flush.IsCompleted)
                {
                    return false;
                }
            }

            return true;
        }
        catch (Exception ex) when (clientAborted.IsCancellationRequested || ex is OperationCanceledException or IOException or ConnectionAbortedException)
        {
            // The client went away: not an error of ours or of the deployment. Disposing the source cancels the upstream.
            return false;
        }
        finally
        {
            if (source is not null)
            {
                await source.DisposeAsync();
            }
        }
    }

    private static void Restart(CancellationTokenSource? idle, TimeSpan? timeout)
    {
        if (idle is not null && timeout is { } t)
        {
            idle.CancelAfter(t);
        }
    }

    private static bool IsUpstreamFailure(Exception ex) => ex is IOException or HttpRequestException or OperationCanceledException;

    private static async ValueTask EndWithErrorAsync(
        HttpContext context, GatewayRequestContext request, IOpenAiErrorWriter errors, bool timedOut, TimeSpan idleTimeout)
    {
        var group = request.ModelGroup ?? "";
        request.FailureKind = timedOut ? UpstreamFailureKind.Timeout : UpstreamFailureKind.Connection;
        if (!request.Stream)
        {
            // Half a JSON document cannot be repaired; resetting the connection tells the client it is incomplete.
            context.Abort();
            return;
        }

        var error = timedOut ? GatewayError.UpstreamTimeout(group, idleTimeout.TotalSeconds) : GatewayError.UpstreamStreamFailed(group);
        errors.WriteSseEvent(context.Response.BodyWriter, error);
        try
        {
            await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionAbortedException)
        {
            // The client left at the same moment; nothing more to tell it.
        }
    }
}
