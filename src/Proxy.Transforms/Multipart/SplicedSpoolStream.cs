namespace Proxy.Transforms.Multipart;

/// <summary>
/// A read-only, forward-only view of a <see cref="SpooledBody"/> with one byte range replaced: the spool before
/// <c>cutStart</c>, then the replacement, then the spool from <c>cutEnd</c>. Its own position only, so several can read
/// one spool.
/// </summary>
internal sealed class SplicedSpoolStream(SpooledBody spool, long cutStart, long cutEnd, byte[] replacement) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => spool.Length - (cutEnd - cutStart) + replacement.Length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty || _position >= Length)
        {
            return 0;
        }

        int read;
        if (_position < cutStart)
        {
            var before = (int)Math.Min(buffer.Length, cutStart - _position);
            read = await spool.ReadAsync(_position, buffer[..before], cancellationToken);
        }
        else if (_position < cutStart + replacement.Length)
        {
            var offset = (int)(_position - cutStart);
            read = Math.Min(buffer.Length, replacement.Length - offset);
            replacement.AsSpan(offset, read).CopyTo(buffer.Span);
        }
        else
        {
            var spoolOffset = _position - replacement.Length + (cutEnd - cutStart);
            read = await spool.ReadAsync(spoolOffset, buffer, cancellationToken);
        }

        _position += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // The forwarder reads asynchronously; a synchronous read would block a thread on disk I/O.
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Read asynchronously.");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
