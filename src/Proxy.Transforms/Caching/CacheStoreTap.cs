using Proxy.Abstractions;
using Proxy.Transforms.Streaming;

namespace Proxy.Transforms.Caching;

/// <summary>
/// Tees a cache miss's answer off the copy to the client (never holding it back) and stores it once the upstream has
/// finished cleanly; an abandoned answer is dropped. A streamed answer is assembled into its non-streamed form first.
/// </summary>
internal sealed class CacheStoreTap(IAnswerSink sink, GatewayRequestContext request) : IResponseTap
{
    // SSE framing and per-chunk envelopes make a stream several times larger than the answer it assembles into.
    private const int StreamOverheadFactor = 8;

    private ArrayPoolBufferWriter? _buffer;
    private bool _overflow;

    public bool HoldsBody => false;

    public ValueTask<GatewayError?> OnDataAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_overflow)
        {
            return default;
        }

        var buffer = _buffer ??= new ArrayPoolBufferWriter();
        if ((long)buffer.WrittenCount + data.Length > (long)sink.MaxItemBytes * StreamOverheadFactor)
        {
            // Too large to keep: stop buffering now rather than hold a huge answer to throw it away at the end.
            _overflow = true;
            Release();
            sink.OnTooLarge();
            return default;
        }

        data.Span.CopyTo(buffer.GetSpan(data.Length));
        buffer.Advance(data.Length);
        return default;
    }

    public ValueTask<GatewayError?> OnCompletedAsync(CancellationToken cancellationToken)
    {
        var buffer = _buffer;
        if (_overflow || buffer is null)
        {
            return default;
        }

        // The cache keeps answers in the pipeline's chat shape; a native Messages answer is another protocol's.
        if (request.Attempt.AnswerInClientProtocol)
        {
            Release();
            return default;
        }

        try
        {
            var body = buffer.WrittenMemory.Span;
            if (IsNativeResponses(request))
            {
                // A Responses API answer from a deployment that speaks it: kept as chat like every other answer.
                if (Protocols.ResponsesBridge.ResponsesToChatAnswer.Convert(body) is { } chat)
                {
                    sink.Store(chat);
                }
            }
            else if (IsEventStream(body))
            {
                if (StreamAssembler.Assemble(body) is { } assembled)
                {
                    sink.Store(assembled);
                }
            }
            else
            {
                sink.Store(body);
            }
        }
        finally
        {
            Release();
        }

        return default;
    }

    public void OnAborted() => Release();

    private static bool IsNativeResponses(GatewayRequestContext request) =>
        request.Endpoint == OpenAiEndpoint.Responses && request.Attempt.Deployment is { ServesResponses: true } && !request.Attempt.Simulated;

    private static bool IsEventStream(ReadOnlySpan<byte> body)
    {
        var trimmed = body.TrimStart(" \r\n\t"u8);
        return !trimmed.IsEmpty && trimmed[0] != (byte)'{';
    }

    private void Release()
    {
        _buffer?.Dispose();
        _buffer = null;
    }
}
