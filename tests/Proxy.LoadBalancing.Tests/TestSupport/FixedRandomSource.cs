using Proxy.Abstractions;

namespace Proxy.LoadBalancing.Tests.TestSupport;

/// <summary>Hands out a fixed sequence of values and fails the test if a policy asks for more.</summary>
internal sealed class FixedRandomSource(params double[] sequence) : IRandomSource
{
    private readonly Queue<double> _values = new(sequence);

    public int Calls { get; private set; }

    public double NextDouble()
    {
        Calls++;
        return _values.Count > 0 ? _values.Dequeue() : throw new InvalidOperationException("The policy drew more random numbers than the test planned.");
    }
}
