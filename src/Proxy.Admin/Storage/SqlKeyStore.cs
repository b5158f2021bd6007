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
        await connection.ExecuteAsync(Command(Migrations.CreateVersionTable, null, cancellationToken));
        var current = (int)await connection.ExecuteScalarAsync<long>(Command(Migrations.CurrentVersion, null, cancellationToken));
        foreach (var migration in Migrations.All)
        {
            if (migration.Version <= current)
            {
                continue;
            }

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            foreach (var statement in migration.Statements)
            {
                await connection.ExecuteAsync(Command(statement, null, cancellationToken, transaction));
            }

            var record = new { version = (long)migration.Version, description = migration.Description, appliedAt = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() };
            await connection.ExecuteAsync(Command(Migrations.RecordVersion, record, cancellationToken, transaction));
            await transaction.CommitAsync(cancellationToken);
            current = migration.Version;
        }

        return current;
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RunAsync(connection => connection.ExecuteScalarAsync<long>(Command("SELECT 1", null, cancellationToken)), write: false, cancellationToken);
            return true;
        }
        catch (StoreUnavailableException)
        {
            return false;
        }
    }

    public Task<KeyRow?> FindKeyAsync(string token, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.QuerySingleOrDefaultAsync<KeyRow>(Command(Sql.FindKey, new { token }, cancellationToken)), write: false, cancellationToken);

    public async Task<IReadOnlyList<KeyRow>> FindKeysByAliasAsync(string alias, CancellationToken cancellationToken) =>
        [.. await RunAsync(connection => connection.QueryAsync<KeyRow>(Command(Sql.FindKeysByAlias, new { alias }, cancellationToken)), write: false, cancellationToken)];

    public Task InsertKeyAsync(KeyRow row, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(Command(Sql.InsertKey, row, cancellationToken)), write: true, cancellationToken);

    public async Task<bool> UpdateKeyAsync(KeyRow row, CancellationToken cancellationToken) =>
        await RunAsync(connection => connection.ExecuteAsync(Command(Sql.UpdateKey, row, cancellationToken)), write: true, cancellationToken) > 0;

    public async Task<bool> ReplaceTokenAsync(string oldToken, string newToken, string keyName, long updatedAt, CancellationToken cancellationToken) =>
        await RunAsync(connection => connection.ExecuteAsync(Command(Sql.ReplaceToken, new { oldToken, newToken, keyName, updatedAt }, cancellationToken)),
            write: true, cancellationToken) > 0;

    public Task<int> DeleteKeysAsync(IReadOnlyList<string> tokens, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            var deleted = 0;
            foreach (var token in tokens)
            {
                deleted += await connection.ExecuteAsync(Command(Sql.DeleteKeys, new { token }, cancellationToken));
            }

            return deleted;
        }, write: true, cancellationToken);

    public Task<(IReadOnlyList<KeyRow> Rows, int Total)> ListKeysAsync(KeyListQuery query, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            var filter = new { alias = query.KeyAlias, userId = query.UserId, teamId = query.TeamId };
            var total = await connection.ExecuteScalarAsync<long>(Command(Sql.CountKeys, filter, cancellationToken));
            var page = new { alias = query.KeyAlias, userId = query.UserId, teamId = query.TeamId, size = (long)query.Size, offset = (long)(query.Page - 1) * query.Size };
            var rows = await connection.QueryAsync<KeyRow>(Command(Sql.ListKeys, page, cancellationToken));
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
        [.. await RunAsync(connection => connection.QueryAsync<SpendLogRow>(Command(Sql.QuerySpendLogs,
            new { apiKey = query.ApiKey, requestId = query.RequestId, startMs = query.StartMs, endMs = query.EndMs, limit = (long)query.Limit, userId = query.UserId, teamId = query.TeamId },
            cancellationToken)), write: false, cancellationToken)];

    public Task<double> TotalSpendAsync(CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteScalarAsync<double>(Command(Sql.TotalSpend, null, cancellationToken)), write: false, cancellationToken);

    public async Task<IReadOnlyList<ModelRow>> ListModelsAsync(CancellationToken cancellationToken) =>
        [.. await RunAsync(connection => connection.QueryAsync<ModelRow>(Command(Sql.ListModels, null, cancellationToken)), write: false, cancellationToken)];

    public Task UpsertModelAsync(ModelRow row, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(Command(Sql.UpsertModel, row, cancellationToken)), write: true, cancellationToken);

    public async Task<bool> DeleteModelAsync(string modelId, CancellationToken cancellationToken) =>
        await RunAsync(connection => connection.ExecuteAsync(Command(Sql.DeleteModel, new { modelId }, cancellationToken)), write: true, cancellationToken) > 0;

    public virtual Task<int> DeleteSpendLogsBeforeAsync(long cutoffMs, int batch, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(Command(Sql.DeleteOldSpendLogs, new { cutoffMs, batch = (long)batch }, cancellationToken)), write: true, cancellationToken);

    public virtual Task CompactAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected CommandDefinition Command(string sql, object? parameters, CancellationToken cancellationToken, DbTransaction? transaction = null) =>
        new(sql, parameters, transaction, _commandTimeoutSeconds, cancellationToken: cancellationToken);

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
