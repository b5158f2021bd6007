using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace Proxy.Transforms.Body;

/// <summary>
/// A byte buffer rented from <see cref="ArrayPool{T}.Shared"/> plus the number of bytes in use.
/// </summary>
/// <remarks>
/// A struct rather than a class so that reading and splicing a body allocate nothing per request. The price is
/// that copies share the array: exactly one owner disposes it. <see cref="Dispose"/> is idempotent on that owner
/// (it clears the instance it is called on), and a <c>default</c> instance is an empty buffer that disposes to
/// nothing.
/// </remarks>
[SuppressMessage("Performance", "CA1815:Override equals and operator equals on value types", Justification = "An owner handle, never compared.")]
public struct PooledBuffer : IDisposable
{
    private byte[]? _array;
    private int _length;

    internal PooledBuffer(byte[] array, int length)
    {
        _array = array;
        _length = length;
    }

    /// <summary>The rented array (longer than <see cref="Length"/>); empty once disposed.</summary>
    public readonly byte[] Array => _array ?? [];

    public readonly int Length => _length;

    public readonly ReadOnlyMemory<byte> Memory => _array is null ? default : new(_array, 0, _length);

    public readonly ReadOnlySpan<byte> Span => _array is null ? default : new(_array, 0, _length);

    public void Dispose()
    {
        var array = _array;
        _array = null;
        _length = 0;
        // Zero-length arrays are shared empties, never rented.
        if (array is { Length: > 0 })
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
