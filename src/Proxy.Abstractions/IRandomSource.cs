namespace Proxy.Abstractions;

/// <summary>Randomness as a seam, so that tests can fix the sequence (STYLE: no `new Random()`).</summary>
public interface IRandomSource
{
    /// <summary>A value in [0, 1).</summary>
    double NextDouble();
}
