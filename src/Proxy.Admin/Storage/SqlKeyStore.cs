using System.Data.Common;
using Dapper;

namespace Proxy.Admin.Storage;

/// <summary>The store on any ADO.NET database that takes <see cref="Sql"/>; subclasses open connections and classify failures.</summary>
internal abstract partial class SqlKeyStore : IKeyStore, ITenantStore
{
    private readonly int _commandTimeoutSeconds;

    protected SqlKeyStore(TimeSpan commandTimeout) => _commandTimeoutSeconds = Math.Max(1, (int)Math.Ceiling(commandTimeout.TotalSeconds));

    public abstract string Kind { get; }

    protected abstract ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>True when the exception means "the database is not reachable now" rather than a bug.</summary>
    protected abstract bool IsUnavailable(Exception exception);

    /// <summary>Serialises writers where the database needs it (SQLite has one writer at a time).</summary>
    protected virtual ValueTask<IDisposable?> EnterWriteAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IDisposable?>(null);

    public virtual async Task EnsureSchemaAsync(CancellationToken cancellationToken) =>
        await RunAsync(connection => MigrateAsync(connection, cancellationToken), write: true, cancellationToken);

    /// <summary>Applies the <see cref="Migrations"/> the database has not seen yet, each in its own transaction; answers the version reached.</summary>
    protected async Task<int> MigrateAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(Migrations.CreateVersionTable, new { cancellationToken }, commandTimeout: CommandTimeout);
        var current = (int)await connection.ExecuteScalarAsync<long>(Migrations.CurrentVersion, new { cancellationToken }, commandTimeout: CommandTimeout);
        foreach (var migration in Migrations.All)
        {
            if (migration.Version <= current)
            {
                continue;
            }

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            foreach (var statement in migration.Statements)
            {
                // The token itself as the parameters: the statement has none, and Dapper.AOT takes the token from it.
                await connection.ExecuteAsync(statement, cancellationToken, transaction, CommandTimeout);
            }

            var record = new { version = (long)migration.Version, description = migration.Description, appliedAt = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken };
            await connection.ExecuteAsync(Migrations.RecordVersion, record, transaction, CommandTimeout);
            await transaction.CommitAsync(cancellationToken);
            current = migration.Version;
        }

        return current;
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RunAsync(connection => connection.ExecuteScalarAsync<long>("SELECT 1", new { cancellationToken }, commandTimeout: CommandTimeout), write: false, cancellationToken);
            return true;
        }
        catch (StoreUnavailableException)
        {
            return false;
        }
    }

    public Task<KeyRow?> FindKeyAsync(string token, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.QuerySingleOrDefaultAsync<KeyRow>(Sql.FindKey, new { token, cancellationToken }, commandTimeout: CommandTimeout), write: false, cancellationToken);

    public async Task<IReadOnlyList<KeyRow>> FindKeysByAliasAsync(string alias, CancellationToken cancellationToken) =>
        [.. await RunAsync(connection => connection.QueryAsync<KeyRow>(Sql.FindKeysByAlias, new { alias, cancellationToken }, commandTimeout: CommandTimeout), write: false, cancellationToken)];

    public Task InsertKeyAsync(KeyRow row, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(Sql.InsertKey, row, commandTimeout: CommandTimeout), write: true, cancellationToken);

    public async Task<bool> UpdateKeyAsync(KeyRow row, CancellationToken cancellationToken) =>
        await RunAsync(connection => connection.ExecuteAsync(Sql.UpdateKey, row, commandTimeout: CommandTimeout), write: true, cancellationToken) > 0;

    public async Task<bool> ReplaceTokenAsync(string oldToken, string newToken, string keyName, long updatedAt, CancellationToken cancellationToken) =>
        await RunAsync(connection => connection.ExecuteAsync(Sql.ReplaceToken, new { oldToken, newToken, keyName, updatedAt, cancellationToken }, commandTimeout: CommandTimeout),
            write: true, cancellationToken) > 0;

    public Task<int> DeleteKeysAsync(IReadOnlyList<string> tokens, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            var deleted = 0;
            foreach (var token in tokens)
            {
                deleted += await connection.ExecuteAsync(Sql.DeleteKeys, new { token, cancellationToken }, commandTimeout: CommandTimeout);
            }

            return deleted;
        }, write: true, cancellationToken);

    public Task<(IReadOnlyList<KeyRow> Rows, int Total)> ListKeysAsync(KeyListQuery query, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            var filter = new { alias = query.KeyAlias, userId = query.UserId, teamId = query.TeamId, cancellationToken };
            var total = await connection.ExecuteScalarAsync<long>(Sql.CountKeys, filter, commandTimeout: CommandTimeout);
            var page = new { alias = query.KeyAlias, userId = query.UserId, teamId = query.TeamId, size = (long)query.Size, offset = (long)(query.Page - 1) * query.Size, cancellationToken };
            var rows = await connection.QueryAsync<KeyRow>(Sql.ListKeys, page, commandTimeout: CommandTimeout);
            return ((IReadOnlyList<KeyRow>)[.. rows], (int)total);
        }, write: false, cancellationToken);

    public async Task<IReadOnlyList<KeySpendState>> WriteSpendAsync(IReadOnlyList<SpendLogRow> rows, IReadOnlyList<KeySpendUpdate> updates,
        CancellationToken cancellationToken) =>
        (await WriteBatchAsync(rows, updates, [], cancellationToken)).Keys;

    /// <summary>
    /// Inserts spend-log rows inside the batch's transaction; a row whose request_id is already there is skipped, so a
    /// batch retried after an unknown outcome never doubles. Each database has its own fast path (see
    /// benchmarks/Proxy.Benchmarks spend-store): generic ADO.NET binding cost more CPU per row than the insert itself.
    /// </summary>
    protected abstract Task InsertSpendLogsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<SpendLogRow> rows, CancellationToken cancellationToken);

    public async Task<IReadOnlyList<SpendLogRow>> QuerySpendLogsAsync(SpendLogQuery query, CancellationToken cancellationToken) =>
        [.. await RunAsync(connection => connection.QueryAsync<SpendLogRow>(Sql.QuerySpendLogs,
            new { apiKey = query.ApiKey, requestId = query.RequestId, startMs = query.StartMs, endMs = query.EndMs, limit = (long)query.Limit, userId = query.UserId, teamId = query.TeamId, cancellationToken },
            commandTimeout: CommandTimeout), write: false, cancellationToken)];

    public Task<double> TotalSpendAsync(CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteScalarAsync<double>(Sql.TotalSpend, new { cancellationToken }, commandTimeout: CommandTimeout), write: false, cancellationToken);

    public async Task<IReadOnlyList<ModelRow>> ListModelsAsync(CancellationToken cancellationToken) =>
        [.. await RunAsync(connection => connection.QueryAsync<ModelRow>(Sql.ListModels, new { cancellationToken }, commandTimeout: CommandTimeout), write: false, cancellationToken)];

    public Task UpsertModelAsync(ModelRow row, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(Sql.UpsertModel, row, commandTimeout: CommandTimeout), write: true, cancellationToken);

    public async Task<bool> DeleteModelAsync(string modelId, CancellationToken cancellationToken) =>
        await RunAsync(connection => connection.ExecuteAsync(Sql.DeleteModel, new { modelId, cancellationToken }, commandTimeout: CommandTimeout), write: true, cancellationToken) > 0;

    public virtual Task<int> DeleteSpendLogsBeforeAsync(long cutoffMs, int batch, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(Sql.DeleteOldSpendLogs, new { cutoffMs, batch = (long)batch, cancellationToken }, commandTimeout: CommandTimeout), write: true, cancellationToken);

    public virtual Task CompactAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // Dapper runs through Dapper.AOT's generated code (the [module: DapperAot] in this folder), so every call is written
    // inline with its parameters' own type: a CommandDefinition or an object-typed helper would fall back to Dapper's
    // reflection emit, which Native AOT cannot run. The token travels as a cancellationToken member of the parameters;
    // a write that binds a row object as its parameters has no such member and is bounded by the command timeout.
    protected int CommandTimeout => _commandTimeoutSeconds;

    protected async Task<T> RunAsync<T>(Func<DbConnection, Task<T>> work, bool write, CancellationToken cancellationToken)
    {
        using var gate = write ? await EnterWriteAsync(cancellationToken) : null;
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            return await work(connection);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsUnavailable(ex))
        {
            throw new StoreUnavailableException($"The {Kind} database is not available: {ex.Message}", ex);
        }
    }
}
