namespace Proxy.Admin.Spend;

/// <summary>
/// The live spend of one budget holder (a key, team, team member, user, customer or organisation): the total, its
/// budget window, and what is still to be written, under one small lock of its own. The store's total (which includes
/// other replicas' spend) is adopted after every batch and refresh without losing or doubling what this replica added.
/// </summary>
internal sealed class LiveSpend
{
    private readonly Lock _gate = new();
    private double _spend;
    private long? _budgetResetAtMs;
    private double _pendingDelta;
    private bool _pendingReset;
    private bool _dirty;
    // Spend taken by the writer and not yet confirmed by the store; the version moves with every take, so that a store
    // read that began before a write cannot be applied after it.
    private int _writing;
    private long _version;

    public LiveSpend(double spend, long? budgetResetAtMs)
    {
        _spend = spend;
        _budgetResetAtMs = budgetResetAtMs;
    }

    public double Value
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

    /// <summary>The version a store read must still see in <see cref="SyncFromStore"/> to be applied.</summary>
    public long Version
    {
        get
        {
            lock (_gate)
            {
                return _version;
            }
        }
    }

    /// <summary>New settings: no window without a duration; a new window when the duration changed or none ran.</summary>
    public void SettingsChanged(bool hasDuration, bool durationChanged, long? storedResetAtMs)
    {
        lock (_gate)
        {
            if (!hasDuration)
            {
                _budgetResetAtMs = null;
            }
            else if (_budgetResetAtMs is null || durationChanged)
            {
                // A new window starts; otherwise the live one (which may be ahead of the store) stays.
                _budgetResetAtMs = storedResetAtMs;
            }
        }
    }

    /// <summary>budget_duration elapsed: spend starts again from 0 and the next reset is one duration later.</summary>
    public bool ResetIfDue(TimeSpan? duration, long nowMs)
    {
        if (duration is null)
        {
            return false;
        }

        lock (_gate)
        {
            var step = Math.Max(1, (long)duration.Value.TotalMilliseconds);
            if (_budgetResetAtMs is not { } at)
            {
                // A tier's duration reached a holder that never had a window (a customer or member given a budget_id):
                // its first window starts now and is written with its first reset.
                _budgetResetAtMs = nowMs + step;
                return false;
            }

            if (nowMs < at)
            {
                return false;
            }

            _spend = 0;
            _pendingDelta = 0;
            _pendingReset = true;
            _dirty = true;
            // Idle for several windows: one reset, to the end of the window that contains now. Windows stay on the grid
            // of the stored reset time, so every replica computes the same next reset (and resets once).
            _budgetResetAtMs = at + (((nowMs - at) / step) + 1) * step;
            return true;
        }
    }

    /// <summary>Adds a request's cost; returns true when nothing was waiting to be written yet.</summary>
    public bool Add(double cost)
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

    /// <summary>The spend not yet written (and a pending reset), cleared; false when there is none.</summary>
    public bool TakePending(out double delta, out bool reset, out long? resetAtMs)
    {
        lock (_gate)
        {
            delta = _pendingDelta;
            reset = _pendingReset;
            resetAtMs = _pendingReset ? _budgetResetAtMs : null;
            if (!_dirty)
            {
                return false;
            }

            _pendingDelta = 0;
            _pendingReset = false;
            _dirty = false;
            _writing++;
            _version++;
            return true;
        }
    }

    /// <summary>Pending spend carried over from a replaced holder (a regenerated key); true when nothing was waiting yet.</summary>
    public bool Carry(double delta, bool reset)
    {
        lock (_gate)
        {
            _pendingDelta += delta;
            _pendingReset |= reset;
            var wasClean = !_dirty;
            _dirty = true;
            return wasClean;
        }
    }

    /// <summary>
    /// A batch with this spend was committed and the store answered with the total there (other replicas' included):
    /// live spend = that total + what was added here since the batch was taken.
    /// </summary>
    public void Committed(double storedSpend, long? storedResetAtMs)
    {
        lock (_gate)
        {
            _writing = Math.Max(0, _writing - 1);
            Adopt(storedSpend, storedResetAtMs);
        }
    }

    /// <summary>The stored row, read while no write was under way (<paramref name="versionAtRead"/> unchanged).</summary>
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
            // Another replica already moved this holder into a later budget window.
            _budgetResetAtMs = stored;
        }

        _spend = storedSpend + _pendingDelta;
    }
}
