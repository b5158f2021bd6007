using Proxy.Abstractions;

namespace Proxy.LoadBalancing.Policies;

/// <summary>The production randomness: the thread-safe shared generator.</summary>
internal sealed class SystemRandomSource : IRandomSource
{
    public double NextDouble() => Random.Shared.NextDouble();
}
