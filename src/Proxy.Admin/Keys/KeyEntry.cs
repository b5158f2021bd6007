using Proxy.Admin.Budgets;
using Proxy.Admin.Spend;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Keys;

/// <summary>
/// One cached virtual key: its settings (swapped whole on update) and its live state (spend, budget window, rate
/// windows, requests in flight), each under a small lock of its own, so keys never contend with each other.
/// </summary>
internal sealed class KeyEntry : IRateLimited
{
    private volatile KeySettings _settings;
    private readonly LiveSpend _spend;
    private Dictionary<string, ModelUse>? _models;
    private long _softAlertWindow;

    public KeyEntry(KeySettings settings)
    {
        _settings = settings;
        _spend = new LiveSpend(settings.Row.Spend, settings.Row.BudgetResetAt);
    }

    public string Token => _settings.Token;

    public KeySettings Settings => _settings;

    /// <summary>Rate windows and in-flight count, owned by the <see cref="IKeyLimitCounters"/> in use.</summary>
    public KeyWindow Window { get; } = new();

    public string LimitId => Token;

    public long? RpmLimit => _settings.RpmLimit;

    public long? TpmLimit => _settings.TpmLimit;

    public long? MaxParallelRequests => _settings.MaxParallelRequests;

    public string LimitDescriptor => "api_key";

    public double Spend => _spend.Value;

    public long? BudgetResetAtMs => _spend.BudgetResetAtMs;

    /// <summary>Takes new settings from an update; the live spend stays (the store's value may be behind it).</summary>
    public void Replace(KeySettings settings)
    {
        var previous = _settings;
        _settings = settings;
        _spend.SettingsChanged(settings.BudgetDuration is not null, previous.BudgetDuration != settings.BudgetDuration, settings.Row.BudgetResetAt);
    }

    /// <summary>budget_duration elapsed: spend starts again from 0 and the next reset is one duration later.</summary>
    public bool ResetBudgetIfDue(long nowMs) => _spend.ResetIfDue(_settings.BudgetDuration, nowMs);

    /// <summary>Adds a request's cost; returns true when the key had nothing waiting to be written yet.</summary>
    public bool AddSpend(double cost) => _spend.Add(cost);

    /// <summary>The spend not yet written (and a pending reset), cleared; null when there is none.</summary>
    public KeySpendUpdate? TakePending() =>
        _spend.TakePending(out var delta, out var reset, out var resetAt) ? new KeySpendUpdate(Token, delta, reset, resetAt) : null;

    /// <summary>
    /// Spend taken from the entry this one replaces (a regenerated key): it is already in this entry's spend and still
    /// to be written. True when the key had nothing waiting to be written yet.
    /// </summary>
    public bool CarryPending(KeySpendUpdate update) => _spend.Carry(update.Delta, update.Reset);

    /// <summary>The version a store read must still see in <see cref="SyncFromStore"/> to be applied.</summary>
    public long SpendVersion => _spend.Version;

    /// <summary>A batch with this key's spend was committed; see <see cref="LiveSpend.Committed"/>.</summary>
    public void Committed(double storedSpend, long? storedResetAtMs) => _spend.Committed(storedSpend, storedResetAtMs);

    /// <summary>The store's row, read while no write of this key was under way; see <see cref="LiveSpend.SyncFromStore"/>.</summary>
    public bool SyncFromStore(double storedSpend, long? storedResetAtMs, long versionAtRead) =>
        _spend.SyncFromStore(storedSpend, storedResetAtMs, versionAtRead);

    /// <summary>True once per budget window, the first time spend reaches the key's soft_budget.</summary>
    public bool CrossedSoftBudget(double spend)
    {
        if (_settings.SoftBudget is not { } soft || spend < soft)
        {
            return false;
        }

        var window = _spend.BudgetResetAtMs ?? 1;
        return Interlocked.Exchange(ref _softAlertWindow, window) != window;
    }

    /// <summary>
    /// The key's use of one model (model_max_budget, model_rpm_limit, model_tpm_limit), made on first use. Kept in
    /// memory only, as LiteLLM keeps it in its cache.
    /// </summary>
    public ModelUse ModelUse(string model)
    {
        lock (Window.Gate)
        {
            _models ??= new Dictionary<string, ModelUse>(StringComparer.Ordinal);
            if (!_models.TryGetValue(model, out var use))
            {
                use = new ModelUse(this, model);
                _models[model] = use;
            }

            return use;
        }
    }
}
