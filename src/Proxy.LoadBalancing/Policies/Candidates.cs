using Proxy.Abstractions;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Policies;

/// <summary>The destinations that passed <see cref="DeploymentFilter"/>, as indices into the available list, in list order.</summary>
internal readonly ref struct Candidates
{
    private readonly IReadOnlyList<DestinationState> _available;
    private readonly ReadOnlySpan<int> _indices;
    private readonly int[]? _rented;

    public Candidates(IReadOnlyList<DestinationState> available, ReadOnlySpan<int> indices, int[]? rented, DestinationState? fallback)
    {
        _available = available;
        _indices = indices;
        _rented = rented;
        Fallback = fallback;
    }

    public int Count => _indices.Length;

    /// <summary>What to return when there is no candidate: the first destination if none carried a deployment, else null.</summary>
    public DestinationState? Fallback { get; }

    public DestinationState this[int position] => _available[_indices[position]];

    public Deployment DeploymentAt(int position) => DeploymentFilter.DeploymentAt(_available, _indices[position]);

    public void Dispose()
    {
        if (_rented is not null)
        {
            System.Buffers.ArrayPool<int>.Shared.Return(_rented);
        }
    }
}
