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
    private const long RetentionLockId = 7_305_112_094_002;

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
            await connection.ExecuteAsync("SELECT pg_advisory_lock(@id)", new { id = SchemaLockId, cancellationToken }, commandTimeout: CommandTimeout);
            try
            {
                await MigrateAsync(connection, cancellationToken);
            }
            finally
            {
                await connection.ExecuteAsync("SELECT pg_advisory_unlock(@id)", new { id = SchemaLockId, cancellationToken = CancellationToken.None }, commandTimeout: CommandTimeout);
            }

            return 0;
        }, write: true, cancellationToken);
    }

    /// <summary>
    /// One retention batch, in a transaction that first takes a transaction-scoped advisory lock without waiting: when
    /// another replica is deleting, this one leaves it to that replica (-1) instead of contending for the same rows.
    /// </summary>
    public override Task<int> DeleteSpendLogsBeforeAsync(long cutoffMs, int batch, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var locked = await connection.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_xact_lock(@id)", new { id = RetentionLockId, cancellationToken }, transaction, CommandTimeout);
            if (!locked)
            {
                return -1;
            }

            var deleted = await connection.ExecuteAsync(Sql.DeleteOldSpendLogsPostgres, new { cutoffMs, batch = (long)batch, cancellationToken }, transaction, CommandTimeout);
            await transaction.CommitAsync(cancellationToken);
            return deleted;
        }, write: true, cancellationToken);

    /// <summary>
    /// The whole batch in one statement: a column array per field, unnested server-side. One round trip and no
    /// per-row parameters (50-row multi-VALUES statements cost 13 us of client CPU per row, most of it binding).
    /// </summary>
    protected override async Task InsertSpendLogsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<SpendLogRow> rows, CancellationToken cancellationToken)
    {
        var count = rows.Count;
        var requestId = new string[count];
        var callType = new string[count];
        var apiKey = new string[count];
        var keyAlias = new string?[count];
        var spend = new double[count];
        var totalTokens = new long[count];
        var promptTokens = new long[count];
        var completionTokens = new long[count];
        var startTime = new long[count];
        var endTime = new long[count];
        var model = new string?[count];
        var modelId = new string?[count];
        var modelGroup = new string?[count];
        var apiBase = new string?[count];
        var cacheHit = new long[count];
        var status = new string[count];
        var latency = new double[count];
        var callId = new string?[count];
        var userId = new string?[count];
        var teamId = new string?[count];
        var endUser = new string?[count];
        var organizationId = new string?[count];
        for (var i = 0; i < count; i++)
        {
            var row = rows[i];
            requestId[i] = row.RequestId;
            callType[i] = row.CallType;
            apiKey[i] = row.ApiKey;
            keyAlias[i] = row.KeyAlias;
            spend[i] = row.Spend;
            totalTokens[i] = row.TotalTokens;
            promptTokens[i] = row.PromptTokens;
            completionTokens[i] = row.CompletionTokens;
            startTime[i] = row.StartTime;
            endTime[i] = row.EndTime;
            model[i] = row.Model;
            modelId[i] = row.ModelId;
            modelGroup[i] = row.ModelGroup;
            apiBase[i] = row.ApiBase;
            cacheHit[i] = row.CacheHit;
            status[i] = row.Status;
            latency[i] = row.LatencyMs;
            callId[i] = row.CallId;
            userId[i] = row.UserId;
            teamId[i] = row.TeamId;
            endUser[i] = row.EndUser;
            organizationId[i] = row.OrganizationId;
        }

        await using var command = new NpgsqlCommand(UnnestInsert, (NpgsqlConnection)connection, (NpgsqlTransaction)transaction);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = requestId });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = callType });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = apiKey });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = keyAlias, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<double[]> { TypedValue = spend });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = totalTokens });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = promptTokens });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = completionTokens });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = startTime });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = endTime });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = model, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = modelId, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = modelGroup, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = apiBase, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = cacheHit });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = status });
        command.Parameters.Add(new NpgsqlParameter<double[]> { TypedValue = latency });
        foreach (var column in (string?[][])[callId, userId, teamId, endUser, organizationId])
        {
            command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = column, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        }
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // Positional ($1..$22) in Sql.SpendLogInsertColumns order.
    private const string UnnestInsert = "INSERT INTO \"LiteLLM_SpendLogs\" (" + Sql.SpendLogInsertColumns + """
        ) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::int8[], $7::int8[],
            $8::int8[], $9::int8[], $10::int8[], $11::text[], $12::text[], $13::text[], $14::text[], $15::int8[],
            $16::text[], $17::float8[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[])
        ON CONFLICT (request_id) DO NOTHING
        """;

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
