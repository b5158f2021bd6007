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
            var step = (long)duration.Value.TotalMilliseconds;
            // A key idle for several windows resets once, to the window that contains now.
            var next = at + step;
            if (next <= nowMs)
            {
                next = nowMs + step;
            }

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
            return update;
        }
    }

    /// <summary>A write failed: put its spend back so that the next batch carries it.</summary>
    public void Restore(KeySpendUpdate update)
    {
        lock (_gate)
        {
            _pendingDelta += update.Delta;
            _pendingReset |= update.Reset;
            _dirty = true;
        }
    }
}
