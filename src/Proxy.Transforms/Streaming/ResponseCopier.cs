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

    // A JSON answer is not flushed per read: Kestrel then sends the headers and the whole body in one write when the
    // response completes. Past this much unflushed data it is flushed anyway, so a large body is never held whole.
    private const int JsonFlushThreshold = 64 * 1024;

    /// <returns>True when the whole body was copied; false when the upstream failed or the client went away.</returns>
    /// <param name="idleTimeout">For streams: the longest wait for the next piece. Null for JSON bodies, which arrive right
    /// behind their headers and are bounded by <paramref name="bodyTimeout"/> (YARP's activity token) instead.</param>
    public static async ValueTask<bool> CopyAsync(
        HttpContext context, HttpResponseMessage upstream, GatewayRequestContext request, TimeSpan? idleTimeout, CancellationToken bodyTimeout,
        IOpenAiErrorWriter errors, UsageObserver observer)
    {
        var taps = request.ResponseTaps;
        if (taps is not null)
        {
            return await CopyWithTapsAsync(context, upstream, request, idleTimeout, bodyTimeout, errors, observer, taps);
        }

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
            var filter = observer.ChunkFilter;
            var unflushed = 0;
            while (true)
            {
                // A hidden usage chunk: an incomplete event held from the last read goes first, then the new bytes.
                var carried = filter.Active ? filter.PendingLength : 0;
                var memory = writer.GetMemory(MinimumReadSize + carried);
                if (carried > 0)
                {
                    filter.TakePending(memory.Span);
                }

                int read;
                try
                {
                    Restart(idle, idleTimeout);
                    read = await source.ReadAsync(memory[carried..], readToken);
                }
                catch (Exception ex) when (!clientAborted.IsCancellationRequested && IsUpstreamFailure(ex))
                {
                    await EndWithErrorAsync(context, request, errors, timedOut: readToken.IsCancellationRequested, idleTimeout ?? TimeSpan.Zero);
                    return false;
                }

                if (read == 0)
                {
                    if (carried > 0)
                    {
                        writer.Advance(carried);
                        await writer.FlushAsync(clientAborted);
                    }

                    break;
                }

                observer.Observe(memory.Span.Slice(carried, read));
                var send = filter.Active ? filter.Filter(memory.Span[..(carried + read)]) : read;
                if (send == 0)
                {
                    continue;
                }

                writer.Advance(send);
                unflushed += send;
                if (idleTimeout is null && unflushed < JsonFlushThreshold)
                {
                    continue;
                }

                unflushed = 0;
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

    // The same copy with taps in the way: each piece is shown to every tap before the client sees it, and a non-streamed
    // body is held whole when a tap asks for it (post_call guardrails). Kept apart so the common path stays as it is.
    private static async ValueTask<bool> CopyWithTapsAsync(
        HttpContext context, HttpResponseMessage upstream, GatewayRequestContext request, TimeSpan? idleTimeout, CancellationToken bodyTimeout,
        IOpenAiErrorWriter errors, UsageObserver observer, IReadOnlyList<IResponseTap> taps)
    {
        var clientAborted = context.RequestAborted;
        var writer = context.Response.BodyWriter;
        var hold = !request.Stream && HoldsBody(taps);
        using var held = hold ? new ArrayPoolBufferWriter() : null;
        Stream? source = null;
        using var idle = idleTimeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(clientAborted);
        var readToken = idle?.Token ?? bodyTimeout;
        var completed = false;
        try
        {
            Restart(idle, idleTimeout);
            source = await upstream.Content.ReadAsStreamAsync(readToken);
            // Only streams are filtered, and only non-streamed bodies are held, so the two never meet.
            var filter = observer.ChunkFilter;
            var unflushed = 0;
            while (true)
            {
                var carried = filter.Active && held is null ? filter.PendingLength : 0;
                var memory = held is not null ? held.GetMemory(MinimumReadSize) : writer.GetMemory(MinimumReadSize + carried);
                if (carried > 0)
                {
                    filter.TakePending(memory.Span);
                }

                int read;
                try
                {
                    Restart(idle, idleTimeout);
                    read = await source.ReadAsync(memory[carried..], readToken);
                }
                catch (Exception ex) when (!clientAborted.IsCancellationRequested && IsUpstreamFailure(ex))
                {
                    await EndWithErrorAsync(context, request, errors, timedOut: readToken.IsCancellationRequested, idleTimeout ?? TimeSpan.Zero);
                    return false;
                }

                if (read == 0)
                {
                    // The upstream ended inside an event: what was held goes out as it is.
                    if (carried > 0)
                    {
                        if (await ShowAsync(taps, memory[..carried], clientAborted) is { } refusedTail)
                        {
                            await RefuseAsync(context, request, errors, refusedTail);
                            return false;
                        }

                        writer.Advance(carried);
                        await writer.FlushAsync(clientAborted);
                    }

                    break;
                }

                observer.Observe(memory.Span.Slice(carried, read));
                var send = filter.Active && held is null ? filter.Filter(memory.Span[..(carried + read)]) : read;
                if (send == 0)
                {
                    continue;
                }

                var piece = memory[..send];
                if (await ShowAsync(taps, piece, clientAborted) is { } refused)
                {
                    await RefuseAsync(context, request, errors, refused);
                    return false;
                }

                if (held is not null)
                {
                    held.Advance(send);
                    continue;
                }

                writer.Advance(send);
                unflushed += send;
                if (idleTimeout is null && unflushed < JsonFlushThreshold)
                {
                    continue;
                }

                unflushed = 0;
                var flush = await writer.FlushAsync(clientAborted);
                if (flush.IsCanceled || flush.IsCompleted)
                {
                    return false;
                }
            }

            // Taps that price or judge the answer read its usage now, before a held body is sent.
            observer.RecordUsage(request);
            // Index loops: foreach over the IReadOnlyList would box its enumerator on every response.
            for (var i = 0; i < taps.Count; i++)
            {
                if (await taps[i].OnCompletedAsync(clientAborted) is not { } refused)
                {
                    continue;
                }

                if (held is not null)
                {
                    await RefuseAsync(context, request, errors, refused);
                    return false;
                }

                request.Outcome.EndedLate(refused);
            }

            completed = true;
            if (held is not null)
            {
                await context.Response.BodyWriter.WriteAsync(held.WrittenMemory, clientAborted);
            }

            return true;
        }
        catch (Exception ex) when (clientAborted.IsCancellationRequested || ex is OperationCanceledException or IOException or ConnectionAbortedException)
        {
            return false;
        }
        finally
        {
            if (!completed)
            {
                for (var i = 0; i < taps.Count; i++)
                {
                    taps[i].OnAborted();
                }
            }

            if (source is not null)
            {
                await source.DisposeAsync();
            }
        }
    }

    private static bool HoldsBody(IReadOnlyList<IResponseTap> taps)
    {
        for (var i = 0; i < taps.Count; i++)
        {
            if (taps[i].HoldsBody)
            {
                return true;
            }
        }

        return false;
    }

    private static async ValueTask<GatewayError?> ShowAsync(IReadOnlyList<IResponseTap> taps, ReadOnlyMemory<byte> piece, CancellationToken cancellationToken)
    {
        for (var i = 0; i < taps.Count; i++)
        {
            var refused = await taps[i].OnDataAsync(piece, cancellationToken);
            if (refused is not null)
            {
                return refused;
            }
        }

        return null;
    }

    // A tap refused the answer: a held body is replaced by the error (nothing was sent); a started stream ends with it.
    private static async ValueTask RefuseAsync(HttpContext context, GatewayRequestContext request, IOpenAiErrorWriter errors, GatewayError error)
    {
        request.Outcome.EndedLate(error);
        // A held body, or a stream refused at its first piece (during_call guardrails), has sent nothing yet: a plain error.
        if (!context.Response.HasStarted)
        {
            context.Response.Clear();
            context.Response.Headers["x-litellm-call-id"] = request.CallId;
            await errors.WriteAsync(context, error);
            return;
        }

        errors.WriteSseEvent(context, context.Response.BodyWriter, error);
        try
        {
            await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionAbortedException)
        {
            // The client left at the same moment.
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
        var group = request.Attempt.ModelGroup ?? request.ModelGroup ?? "";
        request.Attempt.FailAfterStart(timedOut ? UpstreamFailureKind.Timeout : UpstreamFailureKind.Connection);
        if (!request.Stream)
        {
            // Half a JSON document cannot be repaired; resetting the connection tells the client it is incomplete.
            context.Abort();
            return;
        }

        var error = timedOut ? GatewayError.UpstreamTimeout(group, idleTimeout.TotalSeconds) : GatewayError.UpstreamStreamFailed(group);
        request.Outcome.EndedLate(error);
        errors.WriteSseEvent(context, context.Response.BodyWriter, error);
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
