using Proxy.Abstractions;

namespace Proxy.LoadBalancing.Tests.TestSupport;

/// <summary>A deterministic pseudo-random source (SplitMix64), so that distribution tests give the same result every run.</summary>
internal sealed class SeededRandomSource(ulong seed) : IRandomSource
{
    private ulong _state = seed;

    public double NextDouble()
    {
        _state += 0x9E3779B97F4A7C15UL;
        var z = _state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }
}
