using System.Diagnostics;

namespace Proxy.LoadTest;

/// <summary>
/// Fixed-bucket histogram, allocated once: bucket i counts values in [i, i + 1) units; the last bucket
/// collects everything larger. Thread-safe through Interlocked; the exact maximum is kept separately.
/// </summary>
internal sealed class Histogram
{
    private readonly int[] _counts;
    private long _count;
    private long _max;

    public Histogram(int buckets)
    {
        _counts = new int[buckets + 1];
    }

    public long Count => Interlocked.Read(ref _count);

    public long Max => Interlocked.Read(ref _max);

    public void Record(long value)
    {
        if (value < 0)
        {
            value = 0;
        }

        var index = value >= _counts.Length - 1 ? _counts.Length - 1 : (int)value;
        Interlocked.Increment(ref _counts[index]);
        Interlocked.Increment(ref _count);
        var seen = Interlocked.Read(ref _max);
        while (value > seen)
        {
            var previous = Interlocked.CompareExchange(ref _max, value, seen);
            if (previous == seen)
            {
                break;
            }

            seen = previous;
        }
    }

    /// <summary>The value at percentile p (0–100): the bucket holding that rank (the exact maximum for the overflow bucket).</summary>
    public long Percentile(double p)
    {
        var total = Count;
        if (total == 0)
        {
            return 0;
        }

        var rank = Math.Max(1L, (long)Math.Ceiling(p / 100.0 * total));
        long cumulative = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            cumulative += Volatile.Read(ref _counts[i]);
            if (cumulative >= rank)
            {
                return i == _counts.Length - 1 ? Max : i;
            }
        }

        return Max;
    }
}

/// <summary>Latencies with 10 µs resolution up to 10 s (values are truncated to the unit; above 10 s only the maximum is exact).</summary>
internal sealed class LatencyHistogram
{
    private const long UnitMicros = 10;
    private readonly Histogram _histogram = new(1_000_000);

    public long Count => _histogram.Count;

    public void RecordTicks(long stopwatchTicks) =>
        _histogram.Record(stopwatchTicks * 1_000_000 / Stopwatch.Frequency / UnitMicros);

    public double PercentileMs(double p) => _histogram.Percentile(p) * UnitMicros / 1000.0;

    public double MaxMs => _histogram.Max * UnitMicros / 1000.0;
}
