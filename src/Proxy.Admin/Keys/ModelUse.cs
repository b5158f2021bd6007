using Proxy.Admin.Budgets;

namespace Proxy.Admin.Keys;

/// <summary>
/// A key's use of one model: per-model rpm/tpm (model_rpm_limit / model_tpm_limit) and the spend counted against
/// model_max_budget in its own window.
/// </summary>
internal sealed class ModelUse(KeyEntry key, string model) : IRateLimited
{
    private readonly Lock _gate = new();
    private double _spend;
    private long _windowEndsMs;

    public string Model => model;

    public KeyWindow Window { get; } = new();

    public string LimitId { get; } = key.Token + ":model:" + model;

    public long? RpmLimit => key.Settings.ModelRpmLimit is { } limits && limits.TryGetValue(model, out var rpm) ? rpm : null;

    public long? TpmLimit => key.Settings.ModelTpmLimit is { } limits && limits.TryGetValue(model, out var tpm) ? tpm : null;

    public long? MaxParallelRequests => null;

    public string LimitDescriptor => "model_per_key";

    /// <summary>Spend on this model in the current window (a window that has ended counts as 0).</summary>
    public double Spend(TimeSpan? window, long nowMs)
    {
        lock (_gate)
        {
            Roll(window, nowMs);
            return _spend;
        }
    }

    public void Add(double cost, TimeSpan? window, long nowMs)
    {
        lock (_gate)
        {
            Roll(window, nowMs);
            _spend += cost;
        }
    }

    private void Roll(TimeSpan? window, long nowMs)
    {
        if (window is not { } w)
        {
            return;
        }

        if (_windowEndsMs == 0)
        {
            _windowEndsMs = nowMs + (long)w.TotalMilliseconds;
        }
        else if (nowMs >= _windowEndsMs)
        {
            _spend = 0;
            _windowEndsMs = nowMs + (long)w.TotalMilliseconds;
        }
    }
}
