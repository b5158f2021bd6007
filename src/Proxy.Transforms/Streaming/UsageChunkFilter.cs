namespace Proxy.Transforms.Streaming;

/// <summary>
/// Removes the usage-only SSE event (<c>"choices":[],"usage":{…}</c>) from a stream whose client did not ask for it
/// (the gateway asked the upstream for usage to cost the call). Works in place on the copy buffer: complete events
/// are kept or dropped, and a trailing incomplete event is held until its end arrives (a client cannot use half an
/// event anyway). An event longer than the hold buffer cannot be a usage chunk and is passed through as it comes.
/// One per response in flight (pooled with its <see cref="Usage.UsageObserver"/>); allocates nothing.
/// </summary>
public sealed class UsageChunkFilter
{
    internal const int Capacity = 4096;

    private static ReadOnlySpan<byte> EventEnd => "\n\n"u8;

    private static ReadOnlySpan<byte> EmptyChoices => "\"choices\":[]"u8;

    private static ReadOnlySpan<byte> UsageName => "\"usage\":"u8;

    private readonly byte[] _pending = new byte[Capacity];
    private int _pendingLength;
    private bool _passThrough;
    private bool _lastWasNewline;

    /// <summary>False: the copier leaves the stream untouched.</summary>
    public bool Active { get; private set; }

    /// <summary>Bytes of an incomplete event held back from the previous piece.</summary>
    public int PendingLength => _pendingLength;

    public void Reset(bool active)
    {
        Active = active;
        _pendingLength = 0;
        _passThrough = false;
        _lastWasNewline = false;
    }

    /// <summary>Moves the held bytes to the start of <paramref name="destination"/> (at least <see cref="PendingLength"/> long).</summary>
    public int TakePending(Span<byte> destination)
    {
        var length = _pendingLength;
        _pending.AsSpan(0, length).CopyTo(destination);
        _pendingLength = 0;
        return length;
    }

    /// <summary>
    /// Filters <paramref name="buffer"/> (held bytes first, then the new piece) in place and returns how many bytes
    /// at its start are to be sent; a trailing incomplete event is kept for the next call.
    /// </summary>
    public int Filter(Span<byte> buffer)
    {
        var position = 0;
        if (_passThrough)
        {
            var end = LongEventEnd(buffer);
            if (end < 0)
            {
                if (!buffer.IsEmpty)
                {
                    _lastWasNewline = buffer[^1] == (byte)'\n';
                }

                return buffer.Length;
            }

            _passThrough = false;
            position = end;
        }

        var written = position;
        while (true)
        {
            var rest = buffer[position..];
            var at = rest.IndexOf(EventEnd);
            if (at < 0)
            {
                break;
            }

            var length = at + EventEnd.Length;
            if (!IsUsageOnly(rest[..length]))
            {
                if (written != position)
                {
                    rest[..length].CopyTo(buffer[written..]);
                }

                written += length;
            }

            position += length;
        }

        var tail = buffer[position..];
        if (tail.Length <= Capacity)
        {
            tail.CopyTo(_pending);
            _pendingLength = tail.Length;
            return written;
        }

        // Too long to be a usage chunk: send what there is and let the rest of this event through.
        tail.CopyTo(buffer[written..]);
        _passThrough = true;
        _lastWasNewline = tail[^1] == (byte)'\n';
        return written + tail.Length;
    }

    private int LongEventEnd(ReadOnlySpan<byte> buffer)
    {
        if (_lastWasNewline && !buffer.IsEmpty && buffer[0] == (byte)'\n')
        {
            return 1;
        }

        var at = buffer.IndexOf(EventEnd);
        return at < 0 ? -1 : at + EventEnd.Length;
    }

    private static bool IsUsageOnly(ReadOnlySpan<byte> sseEvent) =>
        sseEvent.StartsWith("data:"u8) && sseEvent.IndexOf(EmptyChoices) >= 0 && sseEvent.IndexOf(UsageName) >= 0;
}
