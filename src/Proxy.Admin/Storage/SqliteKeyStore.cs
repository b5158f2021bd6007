using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Proxy.Admin.Storage;

/// <summary>
/// The embedded store: one SQLite file (by default next to the config), so keys and spend survive a restart with no
/// database server. WAL lets readers run beside the one writer; writes take turns through a gate.
/// </summary>
internal sealed class SqliteKeyStore : SqlKeyStore, IDisposable
{
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    public SqliteKeyStore(string path, TimeSpan timeout)
        : base(timeout)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = Math.Max(5, (int)Math.Ceiling(timeout.TotalSeconds)),
        }.ToString();
    }

    public override string Kind => "sqlite";

    // Pages freed per step of CompactAsync: a few MB, so the writer never waits long behind it.
    private const string IncrementalVacuum = "PRAGMA incremental_vacuum(2000)";

    public override async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        // Incremental auto-vacuum lets retention give deleted rows' pages back to the file system (CompactAsync). It can
        // only be chosen before the first table exists: a database made by an older version keeps reusing freed pages
        // (its size stays bounded under retention) but does not shrink.
        await RunAsync(connection => connection.ExecuteAsync("PRAGMA auto_vacuum=INCREMENTAL", new { cancellationToken }, commandTimeout: CommandTimeout), write: true, cancellationToken);
        await RunAsync(connection => connection.ExecuteAsync("PRAGMA journal_mode=WAL", new { cancellationToken }, commandTimeout: CommandTimeout), write: true, cancellationToken);
        await base.EnsureSchemaAsync(cancellationToken);
    }

    public override async Task CompactAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var free = await RunAsync(connection => connection.ExecuteScalarAsync<long>("PRAGMA freelist_count", new { cancellationToken }, commandTimeout: CommandTimeout), write: false, cancellationToken);
            var mode = await RunAsync(connection => connection.ExecuteScalarAsync<long>("PRAGMA auto_vacuum", new { cancellationToken }, commandTimeout: CommandTimeout), write: false, cancellationToken);
            if (free == 0 || mode != 2)
            {
                return;
            }

            await RunAsync(connection => connection.ExecuteAsync(IncrementalVacuum, new { cancellationToken }, commandTimeout: CommandTimeout), write: true, cancellationToken);
        }
    }

    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// <summary>
    /// Straight through SQLite's C API on the connection's own handle (so inside its transaction): one prepared
    /// statement, bound by position and stepped per row. Through ADO.NET the same insert cost 34 us of CPU per row
    /// (57 through Dapper; multi-row statements worse: SQLite looks parameter names up one by one), raw 22.
    /// </summary>
    protected override Task InsertSpendLogsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<SpendLogRow> rows, CancellationToken cancellationToken)
    {
        var db = ((SqliteConnection)connection).Handle!;
        Check(db, raw.sqlite3_prepare_v2(db, Sql.InsertSpendLogRow, out var statement));
        using (statement)
        {
            foreach (var row in rows)
            {
                cancellationToken.ThrowIfCancellationRequested();
                BindText(statement, 1, row.RequestId);
                BindText(statement, 2, row.CallType);
                BindText(statement, 3, row.ApiKey);
                BindText(statement, 4, row.KeyAlias);
                raw.sqlite3_bind_double(statement, 5, row.Spend);
                raw.sqlite3_bind_int64(statement, 6, row.TotalTokens);
                raw.sqlite3_bind_int64(statement, 7, row.PromptTokens);
                raw.sqlite3_bind_int64(statement, 8, row.CompletionTokens);
                raw.sqlite3_bind_int64(statement, 9, row.StartTime);
                raw.sqlite3_bind_int64(statement, 10, row.EndTime);
                BindText(statement, 11, row.Model);
                BindText(statement, 12, row.ModelId);
                BindText(statement, 13, row.ModelGroup);
                BindText(statement, 14, row.ApiBase);
                raw.sqlite3_bind_int64(statement, 15, row.CacheHit);
                BindText(statement, 16, row.Status);
                raw.sqlite3_bind_double(statement, 17, row.LatencyMs);
                BindText(statement, 18, row.CallId);
                BindText(statement, 19, row.UserId);
                BindText(statement, 20, row.TeamId);
                BindText(statement, 21, row.EndUser);
                BindText(statement, 22, row.OrganizationId);
                var result = raw.sqlite3_step(statement);
                if (result != raw.SQLITE_DONE)
                {
                    Check(db, result);
                }

                raw.sqlite3_reset(statement);
            }
        }

        return Task.CompletedTask;
    }

    private static void BindText(sqlite3_stmt statement, int index, string? value)
    {
        if (value is null)
        {
            raw.sqlite3_bind_null(statement, index);
        }
        else
        {
            raw.sqlite3_bind_text(statement, index, value);
        }
    }

    private static void Check(sqlite3 db, int result)
    {
        if (result != raw.SQLITE_OK)
        {
            // The same exception (and error code) the ADO.NET path throws, so the outage classification holds.
            SqliteException.ThrowExceptionForRC(result, db);
        }
    }

    protected override async ValueTask<IDisposable?> EnterWriteAsync(CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        return new Release(_writeGate);
    }

    protected override bool IsUnavailable(Exception exception) => exception is SqliteException { SqliteErrorCode: 5 or 6 or 10 or 13 or 14 };

    public void Dispose()
    {
        // Pooled connections keep the file open: a store started later on the same path (a restart in the same process)
        // must not be handed a connection to a file that has since been replaced.
        using (var connection = new SqliteConnection(_connectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

        _writeGate.Dispose();
    }

    private sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}
