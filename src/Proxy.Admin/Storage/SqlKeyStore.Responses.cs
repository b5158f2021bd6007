using Dapper;
using Proxy.Abstractions;

namespace Proxy.Admin.Storage;

/// <summary>The bridged Responses API responses (<see cref="IResponseStore"/>), in the same database as the keys.</summary>
internal abstract partial class SqlKeyStore : IResponseStore
{
    private const string InsertResponse = """
        INSERT INTO "gateway_responses" (response_id, owner, model_group, response, input_items, conversation, created_at, expires_at)
        VALUES (@Id, @Owner, @ModelGroup, @Response, @InputItems, @Conversation, @CreatedAt, @ExpiresAt)
        """;

    private const string FindResponse = """
        SELECT response_id AS Id, owner AS Owner, model_group AS ModelGroup, response AS Response, input_items AS InputItems,
               conversation AS Conversation, created_at AS CreatedAt, expires_at AS ExpiresAt
        FROM "gateway_responses" WHERE response_id = @id AND expires_at > @now
        """;

    private const string DeleteResponse = """DELETE FROM "gateway_responses" WHERE response_id = @id AND expires_at > @now""";

    private const string DeleteExpiredResponses = """
        DELETE FROM "gateway_responses" WHERE response_id IN
          (SELECT response_id FROM "gateway_responses" WHERE expires_at <= @now ORDER BY expires_at LIMIT @batch)
        """;

    public Task SaveAsync(StoredResponse response, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(InsertResponse, response, commandTimeout: CommandTimeout), write: true, cancellationToken);

    public async Task<StoredResponse?> FindAsync(string id, CancellationToken cancellationToken)
    {
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        var row = await RunAsync(connection => connection.QuerySingleOrDefaultAsync<ResponseRow>(FindResponse, new { id, now, cancellationToken }, commandTimeout: CommandTimeout),
            write: false, cancellationToken);
        return row is null ? null : new StoredResponse(row.Id, row.Owner, row.ModelGroup, row.Response, row.InputItems, row.Conversation, row.CreatedAt, row.ExpiresAt);
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        return await RunAsync(connection => connection.ExecuteAsync(DeleteResponse, new { id, now, cancellationToken }, commandTimeout: CommandTimeout), write: true, cancellationToken) > 0;
    }

    /// <summary>Deletes up to <paramref name="batch"/> responses whose time ran out by <paramref name="nowMs"/>; answers how many went.</summary>
    public Task<int> DeleteExpiredResponsesAsync(long nowMs, int batch, CancellationToken cancellationToken) =>
        RunAsync(connection => connection.ExecuteAsync(DeleteExpiredResponses, new { now = nowMs, batch = (long)batch, cancellationToken }, commandTimeout: CommandTimeout),
            write: true, cancellationToken);

    internal sealed class ResponseRow
    {
        public string Id { get; set; } = "";

        public string? Owner { get; set; }

        public string ModelGroup { get; set; } = "";

        public string Response { get; set; } = "";

        public string InputItems { get; set; } = "";

        public string Conversation { get; set; } = "";

        public long CreatedAt { get; set; }

        public long ExpiresAt { get; set; }
    }
}
