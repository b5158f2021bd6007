using System.Data.Common;
using Dapper;

namespace Proxy.Admin.Storage;

/// <summary>The tenant tables (<see cref="ITenantStore"/>) and the spend batch that covers keys and tenants together.</summary>
internal abstract partial class SqlKeyStore
{
    private static readonly HashSet<string> GroupColumns = new(StringComparer.Ordinal) { "team_id", "\"user\"", "end_user", "model_group", "model", "api_key", "organization_id" };

    public Task<TenantRows> LoadTenantsAsync(CancellationToken cancellationToken) =>
        RunAsync(async connection => new TenantRows(
            [.. await connection.QueryAsync<BudgetRow>(TenantSql.LoadBudgets, new { cancellationToken }, commandTimeout: CommandTimeout)],
            [.. await connection.QueryAsync<TeamRow>(TenantSql.LoadTeams, new { cancellationToken }, commandTimeout: CommandTimeout)],
            [.. await connection.QueryAsync<MembershipRow>(TenantSql.LoadMemberships, new { cancellationToken }, commandTimeout: CommandTimeout)],
            [.. await connection.QueryAsync<UserRow>(TenantSql.LoadUsers, new { cancellationToken }, commandTimeout: CommandTimeout)],
            [.. await connection.QueryAsync<EndUserRow>(TenantSql.LoadCustomers, new { cancellationToken }, commandTimeout: CommandTimeout)],
            [.. await connection.QueryAsync<OrganizationRow>(TenantSql.LoadOrganizations, new { cancellationToken }, commandTimeout: CommandTimeout)],
            [.. await connection.QueryAsync<OrganizationMemberRow>(TenantSql.LoadOrganizationMembers, new { cancellationToken }, commandTimeout: CommandTimeout)]),
            write: false, cancellationToken);

    public Task UpsertTeamAsync(TeamRow row, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(TenantSql.UpsertTeam, row, commandTimeout: CommandTimeout), write: true, cancellationToken);

    public Task<int> DeleteTeamAsync(string teamId, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await connection.ExecuteAsync(TenantSql.DeleteMembersOfTeam, new { id = teamId, cancellationToken }, transaction, CommandTimeout);
            var deleted = await connection.ExecuteAsync(TenantSql.DeleteTeam, new { id = teamId, cancellationToken }, transaction, CommandTimeout);
            await transaction.CommitAsync(cancellationToken);
            return deleted;
        }, write: true, cancellationToken);

    public Task UpsertMemberAsync(MembershipRow row, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(TenantSql.UpsertMember, row, commandTimeout: CommandTimeout), write: true, cancellationToken);

    public Task<int> DeleteMemberAsync(string teamId, string userId, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(TenantSql.DeleteMember, new { teamId, userId, cancellationToken }, commandTimeout: CommandTimeout), write: true, cancellationToken);

    public Task UpsertUserAsync(UserRow row, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(TenantSql.UpsertUser, row, commandTimeout: CommandTimeout), write: true, cancellationToken);

    public Task<int> DeleteUserAsync(string userId, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await connection.ExecuteAsync(TenantSql.DeleteMembershipsOfUser, new { id = userId, cancellationToken }, transaction, CommandTimeout);
            var deleted = await connection.ExecuteAsync(TenantSql.DeleteUser, new { id = userId, cancellationToken }, transaction, CommandTimeout);
            await transaction.CommitAsync(cancellationToken);
            return deleted;
        }, write: true, cancellationToken);

    public Task UpsertCustomerAsync(EndUserRow row, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(TenantSql.UpsertCustomer, row, commandTimeout: CommandTimeout), write: true, cancellationToken);

    public Task<int> DeleteCustomerAsync(string userId, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(TenantSql.DeleteCustomer, new { id = userId, cancellationToken }, commandTimeout: CommandTimeout), write: true, cancellationToken);

    public Task UpsertBudgetAsync(BudgetRow row, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(TenantSql.UpsertBudget, row, commandTimeout: CommandTimeout), write: true, cancellationToken);

    public Task<int> DeleteBudgetAsync(string budgetId, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(TenantSql.DeleteBudget, new { id = budgetId, cancellationToken }, commandTimeout: CommandTimeout), write: true, cancellationToken);

    public Task UpsertOrganizationAsync(OrganizationRow row, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(TenantSql.UpsertOrganization, row, commandTimeout: CommandTimeout), write: true, cancellationToken);

    public Task<int> DeleteOrganizationAsync(string organizationId, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(TenantSql.DeleteOrganization, new { id = organizationId, cancellationToken }, commandTimeout: CommandTimeout), write: true, cancellationToken);

    public Task UpsertOrganizationMemberAsync(OrganizationMemberRow row, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(TenantSql.UpsertOrganizationMember, row, commandTimeout: CommandTimeout), write: true, cancellationToken);

    public Task<int> DeleteOrganizationMemberAsync(string organizationId, string userId, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(TenantSql.DeleteOrganizationMember, new { organizationId, userId, cancellationToken }, commandTimeout: CommandTimeout), write: true, cancellationToken);

    public Task<IReadOnlyList<string>> DeleteKeysOfTeamAsync(string teamId, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var tokens = (await connection.QueryAsync<string>(TenantSql.TeamKeyTokens, new { id = teamId, cancellationToken }, transaction, CommandTimeout)).ToList();
            await connection.ExecuteAsync(TenantSql.DeleteTeamKeys, new { id = teamId, cancellationToken }, transaction, CommandTimeout);
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
                var parameters = new { update.Token, update.Delta, update.Reset, update.BudgetResetAt, cancellationToken };
                if (await connection.QuerySingleOrDefaultAsync<KeySpendState>(Sql.AddKeySpend, parameters, transaction, CommandTimeout) is { } state)
                {
                    keyStates.Add(state);
                }
            }

            var tenantStates = new List<(TenantSpendUpdate, TenantSpendState)>(tenants.Count);
            foreach (var update in tenants)
            {
                if (update.Kind == TenantKind.Customer)
                {
                    await connection.ExecuteAsync(TenantSql.EnsureCustomer, new { update.Id, cancellationToken }, transaction, CommandTimeout);
                }

                if (await AddTenantSpendAsync(connection, transaction, update, cancellationToken) is { } state)
                {
                    tenantStates.Add((update, state));
                }
            }

            await transaction.CommitAsync(cancellationToken);
            return new SpendBatchResult(keyStates, tenantStates);
        }, write: true, cancellationToken);

    // One call site per statement: Dapper.AOT generates code only for SQL it can see at build time (with a SQL string
    // chosen at run time and a cancellation member, 1.1.0 generates code that does not compile).
    private Task<TenantSpendState?> AddTenantSpendAsync(DbConnection connection, DbTransaction transaction, TenantSpendUpdate update,
        CancellationToken cancellationToken)
    {
        var parameters = new { update.Id, update.TeamId, update.Delta, update.Reset, update.BudgetResetAt, cancellationToken };
        return update.Kind switch
        {
            TenantKind.Team => connection.QuerySingleOrDefaultAsync<TenantSpendState>(TenantSql.AddTeamSpend, parameters, transaction, CommandTimeout),
            TenantKind.Member => connection.QuerySingleOrDefaultAsync<TenantSpendState>(TenantSql.AddMemberSpend, parameters, transaction, CommandTimeout),
            TenantKind.User => connection.QuerySingleOrDefaultAsync<TenantSpendState>(TenantSql.AddUserSpend, parameters, transaction, CommandTimeout),
            TenantKind.Customer => connection.QuerySingleOrDefaultAsync<TenantSpendState>(TenantSql.AddCustomerSpend, parameters, transaction, CommandTimeout),
            _ => connection.QuerySingleOrDefaultAsync<TenantSpendState>(TenantSql.AddOrganizationSpend, parameters, transaction, CommandTimeout),
        };
    }

    public Task EnsureProxyBudgetAsync(string id, double maxBudget, string? budgetDuration, long nowMs, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(TenantSql.EnsureProxyBudgetUser, new { id, maxBudget, budgetDuration, now = nowMs, cancellationToken }, commandTimeout: CommandTimeout), write: true, cancellationToken);

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
        // The statement is built here, so Dapper.AOT binds its parameters by name at run time and takes no token with
        // them (a cancellation member next to SQL it cannot see breaks 1.1.0's generated code): the command timeout bounds it.
        return [.. await RunAsync(connection => connection.QueryAsync<SpendAggregate>(sql, new { startMs, endMs }, commandTimeout: CommandTimeout),
            write: false, cancellationToken)];
    }
}
