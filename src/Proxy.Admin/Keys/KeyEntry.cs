using Proxy.Admin.Storage;

namespace Proxy.Admin.Keys;

/// <summary>
/// One cached virtual key: its settings (swapped whole on update) and its live state (spend, budget window, rate
/// windows, requests in flight), changed under one small lock per key, so keys never contend with each other.
/// </summary>
internal sealed class KeyEntry
{
    private readonly Lock _gate = new();
    private volatile KeySettings _settings;
    private double _spend;
    private long? _budgetResetAtMs;
    private double _pendingDelta;
    private bool _pendingReset;
    private bool _dirty;
    // Spend taken by the writer and not yet confirmed by the store; the version moves with every take, so that a store
    // read that began before a write cannot be applied after it.
    private int _writing;
    private long _version;

    public KeyEntry(KeySettings settings)
    {
        _settings = settings;
        _spend = settings.Row.Spend;
        _budgetResetAtMs = settings.Row.BudgetResetAt;
    }

    public string Token => _settings.Token;

    public KeySettings Settings => _settings;

    /// <summary>Rate windows and in-flight count, owned by the <see cref="Budgets.IKeyLimitCounters"/> in use.</summary>
    public KeyWindow Window { get; } = new();

    public double Spend
    {
        get
        {
            lock (_gate)
            {
                return _spend;
            }
        }
    }

    public long? BudgetResetAtMs
    {
        get
        {
            lock (_gate)
            {
                return _budgetResetAtMs;
            }
        }
    }

    /// <summary>Takes new settings from an update; the live spend stays (the store's value may be behind it).</summary>
    public void Replace(KeySettings settings)
    {
        lock (_gate)
        {
            var previous = _settings;
            _settings = settings;
            if (settings.BudgetDuration is null)
            {
                _budgetResetAtMs = null;
            }
            else if (_budgetResetAtMs is null || previous.BudgetDuration != settings.BudgetDuration)
            {
                // A new window starts; otherwise the live one (which may be ahead of the store) stays.
                _budgetResetAtMs = settings.Row.BudgetResetAt;
            }
        }
    }

    /// <summary>budget_duration elapsed: spend starts again from 0 and the next reset is one duration later.</summary>
    public bool ResetBudgetIfDue(long nowMs)
    {
        var duration = _settings.BudgetDuration;
        if (duration is null)
        {
            return false;
        }

        lock (_gate)
        {
            if (_budgetResetAtMs is not { } at || nowMs < at)
            {
                return false;
            }

            _spend = 0;
            _pendingDelta = 0;
            _pendingReset = true;
            _dirty = true;
            var step = Math.Max(1, (long)duration.Value.TotalMilliseconds);
            // A key idle for several windows resets once, to the end of the window that contains now. Windows stay on
            // the grid of the stored reset time, so every replica computes the same next reset (and resets once).
            var next = at + (((nowMs - at) / step) + 1) * step;

            _budgetResetAtMs = next;
            return true;
        }
    }

    /// <summary>Adds a request's cost; returns true when the key had nothing waiting to be written yet.</summary>
    public bool AddSpend(double cost)
    {
        lock (_gate)
        {
            _spend += cost;
            _pendingDelta += cost;
            var wasClean = !_dirty;
            _dirty = true;
            return wasClean;
        }
    }

    /// <summary>The spend not yet written (and a pending reset), cleared; null when there is none.</summary>
    public KeySpendUpdate? TakePending()
    {
        lock (_gate)
        {
            if (!_dirty)
            {
                return null;
            }

            var update = new KeySpendUpdate(Token, _pendingDelta, _pendingReset, _pendingReset ? _budgetResetAtMs : null);
            _pendingDelta = 0;
            _pendingReset = false;
            _dirty = false;
            _writing++;
            _version++;
            return update;
        }
    }

    /// <summary>
    /// Spend taken from the entry this one replaces (a regenerated key): it is already in this entry's spend and still
    /// to be written. True when the key had nothing waiting to be written yet.
    /// </summary>
    public bool CarryPending(KeySpendUpdate update)
    {
        lock (_gate)
        {
            _pendingDelta += update.Delta;
            _pendingReset |= update.Reset;
            var wasClean = !_dirty;
            _dirty = true;
            return wasClean;
        }
    }

    /// <summary>The version a store read must still see in <see cref="SyncFromStore"/> to be applied.</summary>
    public long SpendVersion
    {
        get
        {
            lock (_gate)
            {
                return _version;
            }
        }
    }

    /// <summary>
    /// A batch with this key's spend was committed and the store answered with the key's total there, which includes
    /// what other replicas wrote: live spend = that total + what was added here since the batch was taken.
    /// </summary>
    public void Committed(double storedSpend, long? storedResetAtMs)
    {
        lock (_gate)
        {
            _writing = Math.Max(0, _writing - 1);
            Adopt(storedSpend, storedResetAtMs);
        }
    }

    /// <summary>
    /// The store's row, read while no write of this key was under way (<paramref name="versionAtRead"/> unchanged):
    /// spend written by other replicas becomes visible here, so budgets hold across replicas within a refresh.
    /// </summary>
    public bool SyncFromStore(double storedSpend, long? storedResetAtMs, long versionAtRead)
    {
        lock (_gate)
        {
            if (_writing > 0 || _version != versionAtRead)
            {
                return false;
            }

            Adopt(storedSpend, storedResetAtMs);
            return true;
        }
    }

    private void Adopt(double storedSpend, long? storedResetAtMs)
    {
        if (_pendingReset)
        {
            // A reset here since the read: the stored total is from the window before it.
            return;
        }

        if (storedResetAtMs is { } stored && (_budgetResetAtMs is not { } local || stored > local))
        {
            // Another replica already moved the key into a later budget window.
            _budgetResetAtMs = stored;
        }

        _spend = storedSpend + _pendingDelta;
    }
}
