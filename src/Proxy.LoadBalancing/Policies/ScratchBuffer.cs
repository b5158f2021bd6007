using System.Buffers;

namespace Proxy.LoadBalancing.Policies;

/// <summary>Per-pick scratch space: the caller's stack memory when it is long enough, else a pooled array returned on Dispose.</summary>
internal readonly ref struct ScratchBuffer<T>
    where T : unmanaged
{
    private readonly T[]? _rented;

    public ScratchBuffer(Span<T> stack, int length)
    {
        if (stack.Length >= length)
        {
            Span = stack[..length];
        }
        else
        {
            _rented = ArrayPool<T>.Shared.Rent(length);
            Span = _rented.AsSpan(0, length);
        }
    }

    public Span<T> Span { get; }

    public void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<T>.Shared.Return(_rented);
        }
    }
}
