using System.Buffers;
using System.Buffers.Binary;

namespace Proxy.Transforms.Caching;

/// <summary>A growable byte buffer on the shared pool that can also rewrite what it holds (to reorder object members).</summary>
internal struct CanonicalBuffer : IDisposable
{
    private byte[] _array;
    private int _length;

    public CanonicalBuffer(int initialSize) => _array = ArrayPool<byte>.Shared.Rent(Math.Max(initialSize, 256));

    public readonly int Length => _length;

    public readonly Span<byte> WrittenSpan => _array.AsSpan(0, _length);

    public void Append(byte value)
    {
        Ensure(1);
        _array[_length++] = value;
    }

    public void Append(ReadOnlySpan<byte> value)
    {
        Ensure(value.Length);
        value.CopyTo(_array.AsSpan(_length));
        _length += value.Length;
    }

    /// <summary>A tag, a 4-byte length and the bytes: no two different values share an encoding.</summary>
    public void AppendPrefixed(byte tag, ReadOnlySpan<byte> value)
    {
        Ensure(5 + value.Length);
        _array[_length] = tag;
        BinaryPrimitives.WriteInt32LittleEndian(_array.AsSpan(_length + 1), value.Length);
        value.CopyTo(_array.AsSpan(_length + 5));
        _length += 5 + value.Length;
    }

    /// <summary>Room for <paramref name="size"/> bytes to be written in place, then <see cref="Advance"/>.</summary>
    public Span<byte> GetSpan(int size)
    {
        Ensure(size);
        return _array.AsSpan(_length, size);
    }

    public void Advance(int count) => _length += count;

    public void Truncate(int length) => _length = length;

    public void Dispose()
    {
        if (_array is { Length: > 0 })
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = [];
        }
    }

    private void Ensure(int count)
    {
        if (_array.Length - _length >= count)
        {
            return;
        }

        var next = ArrayPool<byte>.Shared.Rent(Math.Max(_array.Length * 2, _length + count));
        _array.AsSpan(0, _length).CopyTo(next);
        ArrayPool<byte>.Shared.Return(_array);
        _array = next;
    }
}
