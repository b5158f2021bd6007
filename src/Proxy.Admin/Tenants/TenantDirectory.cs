using System.Collections.Concurrent;
using Proxy.Admin.Budgets;
using Proxy.Admin.Keys;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Tenants;

/// <summary>
/// Every team, team member, internal user, customer, organisation and budget tier, in memory: read whole from the
/// store at start and every user_api_key_cache_ttl (<see cref="TenantRefresher"/>), and changed at once by the admin
/// API. Entries keep their live spend and rate windows across refreshes. Lookups are one dictionary read each.
/// </summary>
internal sealed class TenantDirectory
{
    /// <summary>LiteLLM keeps the proxy-wide budget (litellm_settings.max_budget) as this internal user.</summary>
    public const string ProxyBudgetUserId = "litellm-proxy-budget";

    // Customers are created by requests (any "user" string a client sends): bounded, so that they cannot grow memory
    // without end. Past the bound an unknown customer is checked against the default budget but not tracked here.
    internal const int MaxCustomers = 100_000;

    private readonly AdminOptions _options;
    private readonly IKeyLimitCounters? _counters;
    private readonly ConcurrentDictionary<string, TenantEntry> _teams = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Team, string User), TenantEntry> _members = new();
    private readonly ConcurrentDictionary<string, TenantEntry> _users = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TenantEntry> _customers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TenantEntry> _organizations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, BudgetRow> _budgets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<TenantEntry, object> _rows = new(ReferenceEqualityComparer.Instance);
    private volatile TenantLimits _defaultCustomerLimits = TenantLimits.None;

    public TenantDirectory(AdminOptions options, IKeyLimitCounters? counters = null)
    {
        _options = options;
        _counters = counters;
        if (options.ProxyMaxBudget is { } max)
        {
            var row = new UserRow { UserId = ProxyBudgetUserId, MaxBudget = max, BudgetDuration = options.ProxyBudgetDuration, UserRole = "proxy_admin" };
            Proxy = Put(row);
        }

        RebuildDefaults();
    }

    /// <summary>The proxy-wide budget's holder; null when litellm_settings.max_budget is not set.</summary>
    public TenantEntry? Proxy { get; }

    /// <summary>Whether any customer, or a customer default, exists: without one the body need not be read for an id.</summary>
    public bool TracksCustomers => !_customers.IsEmpty || _options.MaxEndUserBudget is not null || _options.MaxEndUserBudgetId is not null
        || _options.EnforceUserParam || _options.TrackEndUsers;

    public bool TryTeam(string id, out TenantEntry team) => _teams.TryGetValue(id, out team!);

    public bool TryMember(string teamId, string userId, out TenantEntry member) => _members.TryGetValue((teamId, userId), out member!);

    public bool TryUser(string id, out TenantEntry user) => _users.TryGetValue(id, out user!);

    public bool TryCustomer(string id, out TenantEntry customer) => _customers.TryGetValue(id, out customer!);

    public bool TryOrganization(string id, out TenantEntry organization) => _organizations.TryGetValue(id, out organization!);

    public bool TryBudget(string id, out BudgetRow budget) => _budgets.TryGetValue(id, out budget!);

    public ICollection<TenantEntry> Teams => _teams.Values;

    public ICollection<TenantEntry> Users => _users.Values;

    public ICollection<TenantEntry> Customers => _customers.Values;

    public ICollection<TenantEntry> Organizations => _organizations.Values;

    public ICollection<TenantEntry> Members => _members.Values;

    public ICollection<BudgetRow> Budgets => _budgets.Values;

    /// <summary>The stored row an entry was built from (its spend is stale: the entry's is live).</summary>
    public T RowOf<T>(TenantEntry entry)
        where T : class => (T)_rows[entry];

    /// <summary>A customer seen in a request for the first time: tracked with the default budget (max_end_user_budget).</summary>
    public TenantEntry? GetOrAddCustomer(string id)
    {
        if (_customers.TryGetValue(id, out var entry))
        {
            return entry;
        }

        if (_customers.Count >= MaxCustomers)
        {
            return null;
        }

        return Put(new EndUserRow { UserId = id });
    }

    public TenantEntry Put(TeamRow row) => Upsert(_teams, row.TeamId, row, TenantKind.Team, null, TeamLimits(row), row.Spend, row.BudgetResetAt);

    public TenantEntry Put(UserRow row) => Upsert(_users, row.UserId, row, TenantKind.User, null, UserLimits(row), row.Spend, row.BudgetResetAt);

    public TenantEntry Put(EndUserRow row) => Upsert(_customers, row.UserId, row, TenantKind.Customer, null, CustomerLimits(row), row.Spend, row.BudgetResetAt);

    public TenantEntry Put(OrganizationRow row) =>
        Upsert(_organizations, row.OrganizationId, row, TenantKind.Organization, null, OrganizationLimits(row), row.Spend, row.BudgetResetAt);

    public TenantEntry Put(MembershipRow row)
    {
        var limits = FromBudget(row.BudgetId, null);
        var entry = _members.GetOrAdd((row.TeamId, row.UserId), static (k, s) => new TenantEntry(TenantKind.Member, k.User, k.Team, s.limits, s.row.Spend, s.row.BudgetResetAt),
            (limits, row));
        return Track(entry, row, limits, row.BudgetResetAt);
    }

    /// <summary>A budget tier was added or changed: everything that uses it (and the defaults) take its new values.</summary>
    public void Put(BudgetRow row)
    {
        _budgets[row.BudgetId] = row;
        RebuildAll();
    }

    public void RemoveBudget(string id)
    {
        _budgets.TryRemove(id, out _);
        RebuildAll();
    }

    public void RemoveTeam(string id)
    {
        _teams.TryRemove(id, out var removed);
        Forget(removed);
        foreach (var member in _members)
        {
            if (string.Equals(member.Key.Team, id, StringComparison.Ordinal) && _members.TryRemove(member.Key, out var m))
            {
                Forget(m);
            }
        }
    }

    public void RemoveMember(string teamId, string userId)
    {
        _members.TryRemove((teamId, userId), out var removed);
        Forget(removed);
    }

    public void RemoveUser(string id)
    {
        _users.TryRemove(id, out var removed);
        Forget(removed);
    }

    public void RemoveCustomer(string id)
    {
        _customers.TryRemove(id, out var removed);
        Forget(removed);
    }

    public void RemoveOrganization(string id)
    {
        _organizations.TryRemove(id, out var removed);
        Forget(removed);
    }

    /// <summary>
    /// A full read of the store: rows there are added or updated (spend synced as keys' is), rows gone are removed.
    /// <paramref name="versions"/> are the entries' spend versions taken before the read began.
    /// </summary>
    public void Apply(TenantRows rows, IReadOnlyDictionary<TenantEntry, long> versions)
    {
        _budgets.Clear();
        foreach (var budget in rows.Budgets)
        {
            _budgets[budget.BudgetId] = budget;
        }

        RebuildDefaults();
        Sync(_teams, rows.Teams, r => r.TeamId, Put, r => (r.Spend, r.BudgetResetAt), versions);
        Sync(_users, rows.Users, r => r.UserId, Put, r => (r.Spend, r.BudgetResetAt), versions, keep: ProxyBudgetUserId);
        Sync(_customers, rows.Customers, r => r.UserId, Put, r => (r.Spend, r.BudgetResetAt), versions, keepUnwritten: true);
        Sync(_organizations, rows.Organizations, r => r.OrganizationId, Put, r => (r.Spend, r.BudgetResetAt), versions);
        var seen = new HashSet<(string, string)>();
        foreach (var row in rows.Memberships)
        {
            seen.Add((row.TeamId, row.UserId));
            var entry = Put(row);
            if (versions.TryGetValue(entry, out var version))
            {
                entry.Spend.SyncFromStore(row.Spend, row.BudgetResetAt, version);
            }
        }

        foreach (var member in _members)
        {
            if (!seen.Contains(member.Key) && versions.ContainsKey(member.Value) && _members.TryRemove(member.Key, out var gone))
            {
                Forget(gone);
            }
        }
    }

    private void Sync<TRow>(ConcurrentDictionary<string, TenantEntry> entries, IReadOnlyList<TRow> rows, Func<TRow, string> id, Func<TRow, TenantEntry> put,
        Func<TRow, (double Spend, long? ResetAt)> spend, IReadOnlyDictionary<TenantEntry, long> versions, string? keep = null, bool keepUnwritten = false)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            seen.Add(id(row));
            if (keep is not null && string.Equals(id(row), keep, StringComparison.Ordinal))
            {
                // The proxy budget's limits come from the config, its spend from the store.
                if (Proxy is { } proxy && versions.TryGetValue(proxy, out var v))
                {
                    var (s, r) = spend(row);
                    proxy.Spend.SyncFromStore(s, r, v);
                }

                continue;
            }

            var entry = put(row);
            if (versions.TryGetValue(entry, out var version))
            {
                var (s, r) = spend(row);
                entry.Spend.SyncFromStore(s, r, version);
            }
        }

        foreach (var (key, entry) in entries)
        {
            // Gone from the store (deleted through another replica); entries made after the read began stay, and so do
            // customers whose first spend is not written yet.
            if (seen.Contains(key) || !versions.ContainsKey(entry) || (keepUnwritten && entry.Spend.Version == 0)
                || (keep is not null && string.Equals(key, keep, StringComparison.Ordinal)))
            {
                continue;
            }

            if (entries.TryRemove(key, out var gone))
            {
                Forget(gone);
            }
        }
    }

    /// <summary>Every live entry with its spend version, before a refresh reads the store.</summary>
    public Dictionary<TenantEntry, long> Versions()
    {
        var versions = new Dictionary<TenantEntry, long>(ReferenceEqualityComparer.Instance);
        foreach (var collection in new[] { _teams.Values, _users.Values, _customers.Values, _organizations.Values, _members.Values })
        {
            foreach (var entry in collection)
            {
                versions[entry] = entry.Spend.Version;
            }
        }

        return versions;
    }

    /// <summary>Every entry, for the spend writer to find the one a stored total belongs to.</summary>
    public TenantEntry? Find(TenantKind kind, string id, string? teamId) => kind switch
    {
        TenantKind.Team => _teams.GetValueOrDefault(id),
        TenantKind.Member => teamId is null ? null : _members.GetValueOrDefault((teamId, id)),
        TenantKind.User => string.Equals(id, ProxyBudgetUserId, StringComparison.Ordinal) ? Proxy : _users.GetValueOrDefault(id),
        TenantKind.Customer => _customers.GetValueOrDefault(id),
        _ => _organizations.GetValueOrDefault(id),
    };

    private TenantEntry Upsert<TRow>(ConcurrentDictionary<string, TenantEntry> entries, string id, TRow row, TenantKind kind, string? teamId, TenantLimits limits,
        double spend, long? resetAt)
        where TRow : class
    {
        var entry = entries.GetOrAdd(id, static (key, s) => new TenantEntry(s.kind, key, s.teamId, s.limits, s.spend, s.resetAt), (kind, teamId, limits, spend, resetAt));
        return Track(entry, row, limits, resetAt);
    }

    private TenantEntry Track(TenantEntry entry, object row, TenantLimits limits, long? resetAt)
    {
        var isNew = !_rows.ContainsKey(entry);
        var changed = !ReferenceEquals(entry.Limits, limits) && entry.Limits != limits;
        if (changed)
        {
            entry.Replace(limits, resetAt);
        }

        _rows[entry] = row;
        if (isNew || changed)
        {
            // Shared counters follow it before its first request here, so this replica knows the others' counts by then.
            _counters?.Track(entry);
        }

        return entry;
    }

    private void Forget(TenantEntry? entry)
    {
        if (entry is not null)
        {
            _rows.TryRemove(entry, out _);
        }
    }

    private void RebuildAll()
    {
        RebuildDefaults();
        foreach (var (entry, row) in _rows)
        {
            var limits = row switch
            {
                EndUserRow customer => CustomerLimits(customer),
                MembershipRow member => FromBudget(member.BudgetId, null),
                OrganizationRow organization => OrganizationLimits(organization),
                _ => entry.Limits,
            };
            if (limits != entry.Limits)
            {
                entry.Replace(limits, entry.Spend.BudgetResetAtMs);
            }
        }
    }

    private void RebuildDefaults() =>
        // litellm_settings.max_end_user_budget_id names a tier; max_end_user_budget is a plain amount.
        _defaultCustomerLimits = _options.MaxEndUserBudgetId is { } tier && _budgets.TryGetValue(tier, out var budget)
            ? Limits(budget)
            : new TenantLimits { MaxBudget = _options.MaxEndUserBudget };

    private static TenantLimits TeamLimits(TeamRow row) => new()
    {
        Alias = row.TeamAlias,
        MaxBudget = row.MaxBudget,
        SoftBudget = row.SoftBudget,
        BudgetDuration = BudgetDuration.TryParse(row.BudgetDuration, out var d) ? d : null,
        RpmLimit = row.RpmLimit,
        TpmLimit = row.TpmLimit,
        MaxParallelRequests = row.MaxParallelRequests,
        Models = KeyJson.ReadStringArray(row.Models),
        Blocked = row.Blocked != 0,
        OrganizationId = string.IsNullOrEmpty(row.OrganizationId) ? null : row.OrganizationId,
        ModelMaxBudget = ModelBudget.Parse(row.ModelMaxBudget, out _),
    };

    private static TenantLimits UserLimits(UserRow row) => new()
    {
        Alias = row.UserAlias,
        MaxBudget = row.MaxBudget,
        BudgetDuration = BudgetDuration.TryParse(row.BudgetDuration, out var d) ? d : null,
        RpmLimit = row.RpmLimit,
        TpmLimit = row.TpmLimit,
        MaxParallelRequests = row.MaxParallelRequests,
        Models = KeyJson.ReadStringArray(row.Models),
        OrganizationId = string.IsNullOrEmpty(row.OrganizationId) ? null : row.OrganizationId,
        ModelMaxBudget = ModelBudget.Parse(row.ModelMaxBudget, out _),
    };

    private TenantLimits CustomerLimits(EndUserRow row)
    {
        var limits = row.BudgetId is { } id && _budgets.TryGetValue(id, out var budget) ? Limits(budget) : _defaultCustomerLimits;
        return limits with { Alias = row.Alias, Blocked = row.Blocked != 0 };
    }

    private TenantLimits OrganizationLimits(OrganizationRow row) =>
        FromBudget(row.BudgetId, row.OrganizationAlias) with { Models = KeyJson.ReadStringArray(row.Models) };

    private TenantLimits FromBudget(string? budgetId, string? alias) =>
        budgetId is { } id && _budgets.TryGetValue(id, out var budget) ? Limits(budget) with { Alias = alias } : new TenantLimits { Alias = alias };

    public static TenantLimits Limits(BudgetRow budget) => new()
    {
        MaxBudget = budget.MaxBudget,
        SoftBudget = budget.SoftBudget,
        BudgetDuration = BudgetDuration.TryParse(budget.BudgetDuration, out var d) ? d : null,
        RpmLimit = budget.RpmLimit,
        TpmLimit = budget.TpmLimit,
        MaxParallelRequests = budget.MaxParallelRequests,
        ModelMaxBudget = ModelBudget.Parse(budget.ModelMaxBudget, out _),
    };
}
