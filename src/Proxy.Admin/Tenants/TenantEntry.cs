using Proxy.Admin.Budgets;
using Proxy.Admin.Keys;
using Proxy.Admin.Spend;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Tenants;

/// <summary>
/// One cached team, team member, internal user, customer or organisation: its limits (swapped whole when it or its
/// budget tier changes) and its live state (spend and budget window, rate windows), so that checks need no database.
/// </summary>
internal sealed class TenantEntry : IRateLimited
{
    private volatile TenantLimits _limits;
    private readonly LiveSpend _spend;
    // The budget window in which the soft_budget alert was sent (0 = not yet), so it goes once per window.
    private long _softAlertWindow;

    public TenantEntry(TenantKind kind, string id, string? teamId, TenantLimits limits, double spend, long? budgetResetAtMs)
    {
        Kind = kind;
        Id = id;
        TeamId = teamId;
        _limits = limits;
        _spend = new LiveSpend(spend, budgetResetAtMs);
        LimitId = kind switch
        {
            TenantKind.Team => "team:" + id,
            TenantKind.Member => "member:" + teamId + ":" + id,
            TenantKind.User => "user:" + id,
            TenantKind.Customer => "end_user:" + id,
            _ => "org:" + id,
        };
    }

    public TenantKind Kind { get; }

    /// <summary>The team's, user's, customer's or organisation's id; a member's user id.</summary>
    public string Id { get; }

    /// <summary>A member's team; null for the other kinds.</summary>
    public string? TeamId { get; }

    public TenantLimits Limits => _limits;

    public KeyWindow Window { get; } = new();

    public string LimitId { get; }

    public long? RpmLimit => _limits.RpmLimit;

    public long? TpmLimit => _limits.TpmLimit;

    public long? MaxParallelRequests => _limits.MaxParallelRequests;

    public string LimitDescriptor => Kind switch
    {
        TenantKind.Team => "team",
        TenantKind.Member => "team_member",
        TenantKind.User => "user",
        TenantKind.Customer => "end_user",
        _ => "organization",
    };

    public LiveSpend Spend => _spend;

    /// <summary>The label or message name: the id, and for a member "user in team".</summary>
    public string Name => Kind == TenantKind.Member ? $"{Id} in Team={TeamId}" : Id;

    public void Replace(TenantLimits limits, long? storedResetAtMs)
    {
        var previous = _limits;
        _limits = limits;
        _spend.SettingsChanged(limits.BudgetDuration is not null, previous.BudgetDuration != limits.BudgetDuration, storedResetAtMs);
    }

    public TenantSpendUpdate? TakePending() =>
        _spend.TakePending(out var delta, out var reset, out var resetAt) ? new TenantSpendUpdate(Kind, Id, TeamId, delta, reset, resetAt) : null;

    /// <summary>True once per budget window, the first time spend reaches soft_budget.</summary>
    public bool CrossedSoftBudget(double spend)
    {
        if (_limits.SoftBudget is not { } soft || spend < soft)
        {
            return false;
        }

        var window = _spend.BudgetResetAtMs ?? 1;
        var previous = Interlocked.Exchange(ref _softAlertWindow, window);
        return previous != window;
    }
}
