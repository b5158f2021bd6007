using System.Data.Common;
using System.Net.Sockets;
using Dapper;
using Npgsql;

namespace Proxy.Admin.Storage;

/// <summary>
/// The store on PostgreSQL (DATABASE_URL). Short connect and command timeouts, so that a database that is down
/// fails a call in seconds instead of hanging it. The schema is created under an advisory lock, so replicas that
/// start together do not race on CREATE TABLE.
/// </summary>
internal sealed class PostgresKeyStore : SqlKeyStore, IAsyncDisposable
{
    // Any constant shared by every replica; it names the schema migration lock.
    private const long SchemaLockId = 7_305_112_094_001;

    private readonly NpgsqlDataSource _dataSource;

    public PostgresKeyStore(string databaseUrl, TimeSpan timeout)
        : base(timeout)
    {
        var builder = new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString(databaseUrl))
        {
            Timeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds)),
            CommandTimeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds)),
        };
        _dataSource = NpgsqlDataSource.Create(builder);
    }

    public override string Kind => "postgres";

    public override async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await RunAsync(async connection =>
        {
            await connection.ExecuteAsync(Command("SELECT pg_advisory_lock(@id)", new { id = SchemaLockId }, cancellationToken));
            try
            {
                foreach (var statement in Sql.Schema)
                {
                    await connection.ExecuteAsync(Command(statement, null, cancellationToken));
                }
            }
            finally
            {
                await connection.ExecuteAsync(Command("SELECT pg_advisory_unlock(@id)", new { id = SchemaLockId }, CancellationToken.None));
            }

            return 0;
        }, write: true, cancellationToken);
    }

    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    protected override bool IsUnavailable(Exception exception) => exception switch
    {
        // Server-side errors that are about the request itself (syntax, constraint) are bugs, not outages.
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("57", StringComparison.Ordinal)
            || pg.SqlState.StartsWith("53", StringComparison.Ordinal),
        NpgsqlException or SocketException or TimeoutException or IOException => true,
        InvalidOperationException when exception.InnerException is NpgsqlException or SocketException => true,
        _ => false,
    };

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
