using System.Buffers;

namespace Proxy.Transforms.Streaming;

/// <summary>A growable buffer on the shared array pool, for bodies that must be held whole before they are released.</summary>
public sealed class ArrayPoolBufferWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _array = ArrayPool<byte>.Shared.Rent(16 * 1024);
    private int _written;

    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, _written);

    public int WrittenCount => _written;

    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, _written);

    /// <summary>Forgets what was written; the buffer is kept for reuse.</summary>
    public void ResetWrittenCount() => _written = 0;

    /// <summary>Hands the written bytes over as a <see cref="Body.PooledBuffer"/> (its owner returns the array); this writer is empty after.</summary>
    public Body.PooledBuffer Detach()
    {
        var detached = new Body.PooledBuffer(_array, _written);
        _array = [];
        _written = 0;
        return detached;
    }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _array.Length - _written);
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsSpan(_written);
    }

    public void Dispose()
    {
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = [];
        }
    }

    private void Ensure(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_array.Length - _written >= needed)
        {
            return;
        }

        var grown = ArrayPool<byte>.Shared.Rent(Math.Max(Math.Max(_array.Length * 2, 4096), _written + needed));
        _array.AsSpan(0, _written).CopyTo(grown);
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }

        _array = grown;
    }
}
