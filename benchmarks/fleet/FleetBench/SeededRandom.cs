namespace FleetBench;

/// <summary>SplitMix64: a small, fast generator whose sequence is fixed by its seed on every machine and runtime.</summary>
internal sealed class SeededRandom(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>[0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public int Next(int maxExclusive) => (int)(NextUInt64() % (ulong)maxExclusive);

    /// <summary>Seconds to the next arrival of a Poisson process with this rate.</summary>
    public double NextArrival(double ratePerSecond) => -Math.Log(1 - NextDouble()) / ratePerSecond;
}
