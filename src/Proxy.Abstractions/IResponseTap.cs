namespace Proxy.Abstractions;

/// <summary>
/// Watches a successful upstream answer while the gateway copies it to the client: the cache tees it off to store it,
/// post_call guardrails check it. Registered per request on <see cref="GatewayRequestContext.AddResponseTap"/>; only
/// the answered attempt is shown to taps (failed attempts that are retried never reach them).
/// </summary>
public interface IResponseTap
{
    /// <summary>
    /// True to hold a non-streamed body until <see cref="OnCompletedAsync"/> passes it (post_call guardrails). A stream
    /// is never held whole: each piece waits only for <see cref="OnDataAsync"/>.
    /// </summary>
    bool HoldsBody { get; }

    /// <summary>
    /// Sees each piece of the body before it is written to the client (the memory is only valid during the call).
    /// A non-null error stops the copy: a held body is replaced by the error, a stream ends with it as an SSE error
    /// event. Should complete synchronously in the common case.
    /// </summary>
    ValueTask<GatewayError?> OnDataAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>
    /// The upstream's answer ended cleanly and every byte has been seen; a held body has not been sent yet. A non-null
    /// error replaces a held body; for a stream (already sent) it is recorded on the request only.
    /// </summary>
    ValueTask<GatewayError?> OnCompletedAsync(CancellationToken cancellationToken);

    /// <summary>The copy was abandoned (upstream failure, client gone, another tap refused it): nothing must be stored.</summary>
    void OnAborted();
}
