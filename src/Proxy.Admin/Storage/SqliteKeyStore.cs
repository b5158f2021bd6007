using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;

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

    public override async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await RunAsync(connection => connection.ExecuteAsync(Command("PRAGMA journal_mode=WAL", null, cancellationToken)), write: true, cancellationToken);
        await base.EnsureSchemaAsync(cancellationToken);
    }

    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
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
