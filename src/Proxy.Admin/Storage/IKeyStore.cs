namespace Proxy.Admin.Storage;

/// <summary>
/// Where keys, spend logs and stored models live: <see cref="PostgresKeyStore"/> with a DATABASE_URL, otherwise the
/// embedded <see cref="SqliteKeyStore"/>. Every failure to reach the database is a <see cref="StoreUnavailableException"/>.
/// </summary>
internal interface IKeyStore
{
    /// <summary>"postgres" or "sqlite".</summary>
    string Kind { get; }

    Task EnsureSchemaAsync(CancellationToken cancellationToken);

    Task<bool> PingAsync(CancellationToken cancellationToken);

    Task<KeyRow?> FindKeyAsync(string token, CancellationToken cancellationToken);

    Task<IReadOnlyList<KeyRow>> FindKeysByAliasAsync(string alias, CancellationToken cancellationToken);

    Task InsertKeyAsync(KeyRow row, CancellationToken cancellationToken);

    /// <summary>Writes every settings column of the row (not spend); false when the token does not exist.</summary>
    Task<bool> UpdateKeyAsync(KeyRow row, CancellationToken cancellationToken);

    /// <summary>Moves a key to a new token (regenerate), keeping its settings and spend.</summary>
    Task<bool> ReplaceTokenAsync(string oldToken, string newToken, string keyName, long updatedAt, CancellationToken cancellationToken);

    Task<int> DeleteKeysAsync(IReadOnlyList<string> tokens, CancellationToken cancellationToken);

    Task<(IReadOnlyList<KeyRow> Rows, int Total)> ListKeysAsync(KeyListQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Inserts the rows (a row whose request_id exists is skipped, so a retried batch never doubles) and adds the spend,
    /// in one transaction; answers each updated key's stored spend after it (other replicas' spend included).
    /// </summary>
    Task<IReadOnlyList<KeySpendState>> WriteSpendAsync(IReadOnlyList<SpendLogRow> rows, IReadOnlyList<KeySpendUpdate> updates, CancellationToken cancellationToken);

    Task<IReadOnlyList<SpendLogRow>> QuerySpendLogsAsync(SpendLogQuery query, CancellationToken cancellationToken);

    Task<double> TotalSpendAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Deletes up to <paramref name="batch"/> spend-log rows that started before <paramref name="cutoffMs"/>, in one short
    /// transaction; answers how many went, or -1 when another replica holds the cleanup (PostgreSQL advisory lock).
    /// </summary>
    Task<int> DeleteSpendLogsBeforeAsync(long cutoffMs, int batch, CancellationToken cancellationToken);

    /// <summary>Gives the space of deleted rows back where the database can (SQLite: incremental vacuum); no-op elsewhere.</summary>
    Task CompactAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<ModelRow>> ListModelsAsync(CancellationToken cancellationToken);

    Task UpsertModelAsync(ModelRow row, CancellationToken cancellationToken);

    Task<bool> DeleteModelAsync(string modelId, CancellationToken cancellationToken);
}
