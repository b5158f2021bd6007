namespace Proxy.Abstractions;

/// <summary>
/// Live counters of one deployment, read by the routing policies without a lookup or a lock. One instance lives for
/// as long as the deployment id does, across config reloads. Writers use Interlocked; readers accept a moment's skew.
/// </summary>
public sealed class DeploymentStats
{
    private const int LatencySamples = 16;

    private readonly double[] _latency = new double[LatencySamples];
    private int _inFlight;
    private long _minute;
    private int _requestsThisMinute;
    private long _tokensThisMinute;
    private int _failuresThisMinute;
    private int _successesThisMinute;
    private int _latencyCount;
    private int _latencyNext;
    private long _latencyStamp;
    private double _latencyAverage;

    /// <summary>The minute index the per-minute counters use (UTC minutes since the epoch), as LiteLLM's usage windows.</summary>
    public static long MinuteOf(TimeProvider time) => time.GetUtcNow().ToUnixTimeSeconds() / 60;

    /// <summary>The engine's own load gauges, when router_settings.vllm_metrics_interval scrapes them.</summary>
    public EngineLoad Engine { get; } = new();

    /// <summary>Requests sent to the deployment and not finished yet.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Average of the recent latency samples (seconds per output token, or time to first token for streams); 0 when none.</summary>
    public double LatencyAverage => Volatile.Read(ref _latencyAverage);

    public int LatencySampleCount => Volatile.Read(ref _latencyCount);

    /// <summary>Timestamp (TimeProvider ticks) of the newest latency sample.</summary>
    public long LatencyStamp => Volatile.Read(ref _latencyStamp);

    public int RequestsInMinute(long minute) => Volatile.Read(ref _minute) == minute ? Volatile.Read(ref _requestsThisMinute) : 0;

    public long TokensInMinute(long minute) => Volatile.Read(ref _minute) == minute ? Volatile.Read(ref _tokensThisMinute) : 0;

    public int FailuresInMinute(long minute) => Volatile.Read(ref _minute) == minute ? Volatile.Read(ref _failuresThisMinute) : 0;

    public int SuccessesInMinute(long minute) => Volatile.Read(ref _minute) == minute ? Volatile.Read(ref _successesThisMinute) : 0;

    public void RecordOutcome(long minute, bool success)
    {
        RollTo(minute);
        if (success)
        {
            Interlocked.Increment(ref _successesThisMinute);
        }
        else
        {
            Interlocked.Increment(ref _failuresThisMinute);
        }
    }

    public void RequestStarted(long minute)
    {
        Interlocked.Increment(ref _inFlight);
        RollTo(minute);
        Interlocked.Increment(ref _requestsThisMinute);
    }

    public void RequestFinished() => Interlocked.Decrement(ref _inFlight);

    public void AddTokens(long minute, long tokens)
    {
        RollTo(minute);
        Interlocked.Add(ref _tokensThisMinute, tokens);
    }

    public void AddLatency(double value, long timestamp)
    {
        // A torn average under a race only nudges routing for one pick; a lock here would cost every request.
        lock (_latency)
        {
            _latency[_latencyNext] = value;
            _latencyNext = (_latencyNext + 1) % LatencySamples;
            _latencyCount = Math.Min(_latencyCount + 1, LatencySamples);
            var sum = 0.0;
            for (var i = 0; i < _latencyCount; i++)
            {
                sum += _latency[i];
            }

            Volatile.Write(ref _latencyAverage, sum / _latencyCount);
            Volatile.Write(ref _latencyStamp, timestamp);
        }
    }

    public void ClearLatency()
    {
        lock (_latency)
        {
            _latencyCount = 0;
            _latencyNext = 0;
            Volatile.Write(ref _latencyAverage, 0);
        }
    }

    private void RollTo(long minute)
    {
        var current = Volatile.Read(ref _minute);
        if (current != minute && Interlocked.CompareExchange(ref _minute, minute, current) == current)
        {
            Interlocked.Exchange(ref _requestsThisMinute, 0);
            Interlocked.Exchange(ref _tokensThisMinute, 0);
            Interlocked.Exchange(ref _failuresThisMinute, 0);
            Interlocked.Exchange(ref _successesThisMinute, 0);
        }
    }
}
