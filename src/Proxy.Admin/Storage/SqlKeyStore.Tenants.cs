using System.Data.Common;
using Dapper;

namespace Proxy.Admin.Storage;

/// <summary>The tenant tables (<see cref="ITenantStore"/>) and the spend batch that covers keys and tenants together.</summary>
internal abstract partial class SqlKeyStore
{
    private static readonly HashSet<string> GroupColumns = new(StringComparer.Ordinal) { "team_id", "\"user\"", "end_user", "model_group", "model", "api_key", "organization_id" };

    public Task<TenantRows> LoadTenantsAsync(CancellationToken cancellationToken) =>
        RunAsync(async connection => new TenantRows(
            [.. await connection.QueryAsync<BudgetRow>(Command(TenantSql.LoadBudgets, null, cancellationToken))],
            [.. await connection.QueryAsync<TeamRow>(Command(TenantSql.LoadTeams, null, cancellationToken))],
            [.. await connection.QueryAsync<MembershipRow>(Command(TenantSql.LoadMemberships, null, cancellationToken))],
            [.. await connection.QueryAsync<UserRow>(Command(TenantSql.LoadUsers, null, cancellationToken))],
            [.. await connection.QueryAsync<EndUserRow>(Command(TenantSql.LoadCustomers, null, cancellationToken))],
            [.. await connection.QueryAsync<OrganizationRow>(Command(TenantSql.LoadOrganizations, null, cancellationToken))],
            [.. await connection.QueryAsync<OrganizationMemberRow>(Command(TenantSql.LoadOrganizationMembers, null, cancellationToken))]),
            write: false, cancellationToken);

    public Task UpsertTeamAsync(TeamRow row, CancellationToken cancellationToken) => ExecuteAsync(TenantSql.UpsertTeam, row, cancellationToken);

    public Task<int> DeleteTeamAsync(string teamId, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await connection.ExecuteAsync(Command(TenantSql.DeleteMembersOfTeam, new { id = teamId }, cancellationToken, transaction));
            var deleted = await connection.ExecuteAsync(Command(TenantSql.DeleteTeam, new { id = teamId }, cancellationToken, transaction));
            await transaction.CommitAsync(cancellationToken);
            return deleted;
        }, write: true, cancellationToken);

    public Task UpsertMemberAsync(MembershipRow row, CancellationToken cancellationToken) => ExecuteAsync(TenantSql.UpsertMember, row, cancellationToken);

    public Task<int> DeleteMemberAsync(string teamId, string userId, CancellationToken cancellationToken) =>
        ExecuteAsync(TenantSql.DeleteMember, new { teamId, userId }, cancellationToken);

    public Task UpsertUserAsync(UserRow row, CancellationToken cancellationToken) => ExecuteAsync(TenantSql.UpsertUser, row, cancellationToken);

    public Task<int> DeleteUserAsync(string userId, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await connection.ExecuteAsync(Command(TenantSql.DeleteMembershipsOfUser, new { id = userId }, cancellationToken, transaction));
            var deleted = await connection.ExecuteAsync(Command(TenantSql.DeleteUser, new { id = userId }, cancellationToken, transaction));
            await transaction.CommitAsync(cancellationToken);
            return deleted;
        }, write: true, cancellationToken);

    public Task UpsertCustomerAsync(EndUserRow row, CancellationToken cancellationToken) => ExecuteAsync(TenantSql.UpsertCustomer, row, cancellationToken);

    public Task<int> DeleteCustomerAsync(string userId, CancellationToken cancellationToken) =>
        ExecuteAsync(TenantSql.DeleteCustomer, new { id = userId }, cancellationToken);

    public Task UpsertBudgetAsync(BudgetRow row, CancellationToken cancellationToken) => ExecuteAsync(TenantSql.UpsertBudget, row, cancellationToken);

    public Task<int> DeleteBudgetAsync(string budgetId, CancellationToken cancellationToken) =>
        ExecuteAsync(TenantSql.DeleteBudget, new { id = budgetId }, cancellationToken);

    public Task UpsertOrganizationAsync(OrganizationRow row, CancellationToken cancellationToken) =>
        ExecuteAsync(TenantSql.UpsertOrganization, row, cancellationToken);

    public Task<int> DeleteOrganizationAsync(string organizationId, CancellationToken cancellationToken) =>
        ExecuteAsync(TenantSql.DeleteOrganization, new { id = organizationId }, cancellationToken);

    public Task UpsertOrganizationMemberAsync(OrganizationMemberRow row, CancellationToken cancellationToken) =>
        ExecuteAsync(TenantSql.UpsertOrganizationMember, row, cancellationToken);

    public Task<int> DeleteOrganizationMemberAsync(string organizationId, string userId, CancellationToken cancellationToken) =>
        ExecuteAsync(TenantSql.DeleteOrganizationMember, new { organizationId, userId }, cancellationToken);

    public Task<IReadOnlyList<string>> DeleteKeysOfTeamAsync(string teamId, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var tokens = (await connection.QueryAsync<string>(Command(TenantSql.TeamKeyTokens, new { id = teamId }, cancellationToken, transaction))).ToList();
            await connection.ExecuteAsync(Command(TenantSql.DeleteTeamKeys, new { id = teamId }, cancellationToken, transaction));
            await transaction.CommitAsync(cancellationToken);
            return (IReadOnlyList<string>)tokens;
        }, write: true, cancellationToken);

    /// <summary>
    /// The spend batch: rows (a request_id already there is skipped, so a retried batch never doubles), key spend and
    /// tenant spend in one transaction. A customer's row is made on its first spend, as LiteLLM upserts it.
    /// </summary>
    public Task<SpendBatchResult> WriteBatchAsync(IReadOnlyList<SpendLogRow> rows, IReadOnlyList<KeySpendUpdate> keys, IReadOnlyList<TenantSpendUpdate> tenants,
        CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            if (rows.Count > 0)
            {
                await InsertSpendLogsAsync(connection, transaction, rows, cancellationToken);
            }

            var keyStates = new List<KeySpendState>(keys.Count);
            foreach (var update in keys)
            {
                // One key at a time, in batch order: a key taken twice (a batch retried) ends on its latest total.
                if (await connection.QuerySingleOrDefaultAsync<KeySpendState>(Command(Sql.AddKeySpend, update, cancellationToken, transaction)) is { } state)
                {
                    keyStates.Add(state);
                }
            }

            var tenantStates = new List<(TenantSpendUpdate, TenantSpendState)>(tenants.Count);
            foreach (var update in tenants)
            {
                if (update.Kind == TenantKind.Customer)
                {
                    await connection.ExecuteAsync(Command(TenantSql.EnsureCustomer, new { update.Id }, cancellationToken, transaction));
                }

                var sql = update.Kind switch
                {
                    TenantKind.Team => TenantSql.AddTeamSpend,
                    TenantKind.Member => TenantSql.AddMemberSpend,
                    TenantKind.User => TenantSql.AddUserSpend,
                    TenantKind.Customer => TenantSql.AddCustomerSpend,
                    _ => TenantSql.AddOrganizationSpend,
                };
                var parameters = new { update.Id, update.TeamId, update.Delta, update.Reset, update.BudgetResetAt };
                if (await connection.QuerySingleOrDefaultAsync<TenantSpendState>(Command(sql, parameters, cancellationToken, transaction)) is { } state)
                {
                    tenantStates.Add((update, state));
                }
            }

            await transaction.CommitAsync(cancellationToken);
            return new SpendBatchResult(keyStates, tenantStates);
        }, write: true, cancellationToken);

    public Task EnsureProxyBudgetAsync(string id, double maxBudget, string? budgetDuration, long nowMs, CancellationToken cancellationToken) =>
        ExecuteAsync(TenantSql.EnsureProxyBudgetUser, new { id, maxBudget, budgetDuration, now = nowMs }, cancellationToken);

    public async Task<IReadOnlyList<SpendAggregate>> AggregateSpendAsync(string groupColumn, string? breakdownColumn, long? startMs, long? endMs,
        CancellationToken cancellationToken)
    {
        // Column names come from a fixed list, never from the request; values are bound.
        if (!GroupColumns.Contains(groupColumn) || (breakdownColumn is not null && !GroupColumns.Contains(breakdownColumn)))
        {
            throw new ArgumentException("Unknown spend column.", nameof(groupColumn));
        }

        var breakdown = breakdownColumn ?? "NULL";
        var groups = breakdownColumn is null ? "1, 2" : "1, 2, 3";
        var sql = $"""
            SELECT ("startTime" / 86400000) * 86400000 AS Day, {groupColumn} AS Grouping, {breakdown} AS Breakdown,
                MAX(key_alias) AS KeyAlias, MAX(team_id) AS KeyTeamId, COALESCE(SUM(spend), 0) AS Spend, COUNT(*) AS Requests,
                COALESCE(SUM(CASE WHEN status = 'success' THEN 1 ELSE 0 END), 0) AS Successful,
                COALESCE(SUM(prompt_tokens), 0) AS PromptTokens, COALESCE(SUM(completion_tokens), 0) AS CompletionTokens
            FROM "LiteLLM_SpendLogs"
            WHERE (@startMs IS NULL OR "startTime" >= @startMs) AND (@endMs IS NULL OR "startTime" < @endMs)
            GROUP BY {groups} ORDER BY {groups}
            """;
        return [.. await RunAsync(connection => connection.QueryAsync<SpendAggregate>(Command(sql, new { startMs, endMs }, cancellationToken)),
            write: false, cancellationToken)];
    }

    private Task<int> ExecuteAsync(string sql, object parameters, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(Command(sql, parameters, cancellationToken)), write: true, cancellationToken);
}
