namespace Proxy.Admin.Storage;

/// <summary>
/// Teams, members, internal users, customers, organisations and budget tiers in the key store's database (the same
/// <see cref="SqlKeyStore"/> implements both). Failures to reach the database are <see cref="StoreUnavailableException"/>s.
/// </summary>
internal interface ITenantStore
{
    Task<TenantRows> LoadTenantsAsync(CancellationToken cancellationToken);

    Task UpsertTeamAsync(TeamRow row, CancellationToken cancellationToken);

    Task<int> DeleteTeamAsync(string teamId, CancellationToken cancellationToken);

    Task UpsertMemberAsync(MembershipRow row, CancellationToken cancellationToken);

    Task<int> DeleteMemberAsync(string teamId, string userId, CancellationToken cancellationToken);

    Task UpsertUserAsync(UserRow row, CancellationToken cancellationToken);

    Task<int> DeleteUserAsync(string userId, CancellationToken cancellationToken);

    Task UpsertCustomerAsync(EndUserRow row, CancellationToken cancellationToken);

    Task<int> DeleteCustomerAsync(string userId, CancellationToken cancellationToken);

    Task UpsertBudgetAsync(BudgetRow row, CancellationToken cancellationToken);

    Task<int> DeleteBudgetAsync(string budgetId, CancellationToken cancellationToken);

    Task UpsertOrganizationAsync(OrganizationRow row, CancellationToken cancellationToken);

    Task<int> DeleteOrganizationAsync(string organizationId, CancellationToken cancellationToken);

    Task UpsertOrganizationMemberAsync(OrganizationMemberRow row, CancellationToken cancellationToken);

    Task<int> DeleteOrganizationMemberAsync(string organizationId, string userId, CancellationToken cancellationToken);

    /// <summary>Deletes the keys of a team (LiteLLM deletes a team's keys with the team); answers their tokens.</summary>
    Task<IReadOnlyList<string>> DeleteKeysOfTeamAsync(string teamId, CancellationToken cancellationToken);

    /// <summary>
    /// Spend-log rows, key spend and tenant spend in one transaction (see <see cref="IKeyStore.WriteSpendAsync"/>);
    /// answers each updated key's and tenant's stored total after it.
    /// </summary>
    Task<SpendBatchResult> WriteBatchAsync(IReadOnlyList<SpendLogRow> rows, IReadOnlyList<KeySpendUpdate> keys, IReadOnlyList<TenantSpendUpdate> tenants,
        CancellationToken cancellationToken);

    /// <summary>
    /// Spend and requests per UTC day and group (team_id, "user", end_user, model_group, model, api_key), and per value of a
    /// second column within each group when <paramref name="breakdownColumn"/> is given (a daily-activity breakdown).
    /// </summary>
    Task<IReadOnlyList<SpendAggregate>> AggregateSpendAsync(string groupColumn, string? breakdownColumn, long? startMs, long? endMs,
        CancellationToken cancellationToken);
}

internal sealed record SpendBatchResult(IReadOnlyList<KeySpendState> Keys, IReadOnlyList<(TenantSpendUpdate Update, TenantSpendState State)> Tenants);

/// <summary>One group's (and breakdown value's) spend on one UTC day (Day = Unix ms of its midnight).</summary>
internal sealed class SpendAggregate
{
    public long Day { get; set; }

    public string? Grouping { get; set; }

    public string? Breakdown { get; set; }

    /// <summary>The alias and team the rows' key had (what an api_key breakdown shows beside the hash).</summary>
    public string? KeyAlias { get; set; }

    public string? KeyTeamId { get; set; }

    public double Spend { get; set; }

    public long Requests { get; set; }

    public long Successful { get; set; }

    public long PromptTokens { get; set; }

    public long CompletionTokens { get; set; }
}
