namespace Proxy.Admin.Storage;

// Rows of LiteLLM's tenant tables, with its column names. Lists and objects are JSON text; times are Unix milliseconds.
// budget_reset_at on customers, team members and organisations is ours: LiteLLM resets them through their budget row.

/// <summary>A row of LiteLLM_BudgetTable: a reusable budget tier.</summary>
internal sealed class BudgetRow
{
    public string BudgetId { get; set; } = "";

    public double? MaxBudget { get; set; }

    public double? SoftBudget { get; set; }

    public long? MaxParallelRequests { get; set; }

    public long? TpmLimit { get; set; }

    public long? RpmLimit { get; set; }

    public string ModelMaxBudget { get; set; } = "{}";

    public string? BudgetDuration { get; set; }

    public long? BudgetResetAt { get; set; }

    public long CreatedAt { get; set; }

    public string? CreatedBy { get; set; }

    public long UpdatedAt { get; set; }

    public string? UpdatedBy { get; set; }

    public BudgetRow Clone() => (BudgetRow)MemberwiseClone();
}

/// <summary>A row of LiteLLM_TeamTable.</summary>
internal sealed class TeamRow
{
    public string TeamId { get; set; } = "";

    public string? TeamAlias { get; set; }

    public string? OrganizationId { get; set; }

    public string Admins { get; set; } = "[]";

    public string Members { get; set; } = "[]";

    /// <summary>JSON array of {"role","user_id","user_email"}.</summary>
    public string MembersWithRoles { get; set; } = "[]";

    public string Metadata { get; set; } = "{}";

    public double? MaxBudget { get; set; }

    public double? SoftBudget { get; set; }

    public double Spend { get; set; }

    public string Models { get; set; } = "[]";

    public long? MaxParallelRequests { get; set; }

    public long? TpmLimit { get; set; }

    public long? RpmLimit { get; set; }

    public string? BudgetDuration { get; set; }

    public long? BudgetResetAt { get; set; }

    public long Blocked { get; set; }

    public string ModelMaxBudget { get; set; } = "{}";

    public long CreatedAt { get; set; }

    public long UpdatedAt { get; set; }

    public TeamRow Clone() => (TeamRow)MemberwiseClone();
}

/// <summary>A row of LiteLLM_TeamMembership: a user's spend in a team and its per-member budget row.</summary>
internal sealed class MembershipRow
{
    public string UserId { get; set; } = "";

    public string TeamId { get; set; } = "";

    public double Spend { get; set; }

    public string? BudgetId { get; set; }

    public long? BudgetResetAt { get; set; }
}

/// <summary>A row of LiteLLM_UserTable (internal users).</summary>
internal sealed class UserRow
{
    public string UserId { get; set; } = "";

    public string? UserAlias { get; set; }

    public string? UserEmail { get; set; }

    public string? UserRole { get; set; }

    public string Teams { get; set; } = "[]";

    public string? OrganizationId { get; set; }

    public double? MaxBudget { get; set; }

    public double Spend { get; set; }

    public string Models { get; set; } = "[]";

    public long? MaxParallelRequests { get; set; }

    public long? TpmLimit { get; set; }

    public long? RpmLimit { get; set; }

    public string? BudgetDuration { get; set; }

    public long? BudgetResetAt { get; set; }

    public string Metadata { get; set; } = "{}";

    public string ModelMaxBudget { get; set; } = "{}";

    public long CreatedAt { get; set; }

    public long UpdatedAt { get; set; }

    public UserRow Clone() => (UserRow)MemberwiseClone();
}

/// <summary>A row of LiteLLM_EndUserTable (customers).</summary>
internal sealed class EndUserRow
{
    public string UserId { get; set; } = "";

    public string? Alias { get; set; }

    public double Spend { get; set; }

    public string? AllowedModelRegion { get; set; }

    public string? DefaultModel { get; set; }

    public string? BudgetId { get; set; }

    public long Blocked { get; set; }

    public long? BudgetResetAt { get; set; }

    public EndUserRow Clone() => (EndUserRow)MemberwiseClone();
}

/// <summary>A row of LiteLLM_OrganizationTable.</summary>
internal sealed class OrganizationRow
{
    public string OrganizationId { get; set; } = "";

    public string? OrganizationAlias { get; set; }

    public string? BudgetId { get; set; }

    public string Models { get; set; } = "[]";

    public double Spend { get; set; }

    public string Metadata { get; set; } = "{}";

    public long? BudgetResetAt { get; set; }

    public long CreatedAt { get; set; }

    public string? CreatedBy { get; set; }

    public long UpdatedAt { get; set; }

    public string? UpdatedBy { get; set; }

    public OrganizationRow Clone() => (OrganizationRow)MemberwiseClone();
}

/// <summary>A row of LiteLLM_OrganizationMembership.</summary>
internal sealed class OrganizationMemberRow
{
    public string UserId { get; set; } = "";

    public string OrganizationId { get; set; } = "";

    public string? UserRole { get; set; }

    public double Spend { get; set; }

    public string? BudgetId { get; set; }

    public long CreatedAt { get; set; }

    public long UpdatedAt { get; set; }
}

/// <summary>Every tenant row, as one refresh reads them.</summary>
internal sealed record TenantRows(
    IReadOnlyList<BudgetRow> Budgets,
    IReadOnlyList<TeamRow> Teams,
    IReadOnlyList<MembershipRow> Memberships,
    IReadOnlyList<UserRow> Users,
    IReadOnlyList<EndUserRow> Customers,
    IReadOnlyList<OrganizationRow> Organizations,
    IReadOnlyList<OrganizationMemberRow> OrganizationMembers);

/// <summary>Which table a spend update goes to.</summary>
internal enum TenantKind
{
    Team,
    Member,
    User,
    Customer,
    Organization,
}

/// <summary>Spend to add to a tenant row (after a budget_duration reset when one is due); a member is (team, user).</summary>
internal sealed record TenantSpendUpdate(TenantKind Kind, string Id, string? TeamId, double Delta, bool Reset, long? BudgetResetAt);

/// <summary>A tenant row's spend and window in the store, as a spend batch left them.</summary>
internal sealed class TenantSpendState
{
    public string Id { get; set; } = "";

    public double Spend { get; set; }

    public long? BudgetResetAt { get; set; }
}
