namespace Proxy.Abstractions;

/// <summary>
/// Where the gateway keeps the Responses API responses it bridged to chat (their deployments store nothing), so that
/// <c>previous_response_id</c>, GET, DELETE and input_items work on them from any replica and after a restart: the key
/// store's database (embedded SQLite or PostgreSQL), each row bounded by general_settings.responses_store_ttl.
/// </summary>
public interface IResponseStore
{
    Task SaveAsync(StoredResponse response, CancellationToken cancellationToken);

    /// <summary>The response, or null when it is unknown, deleted or expired.</summary>
    Task<StoredResponse?> FindAsync(string id, CancellationToken cancellationToken);

    /// <summary>False when there was nothing to delete.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);
}

/// <summary>
/// One bridged response as the gateway keeps it: the response object, the request's input items (what
/// <c>input_items</c> lists), and the whole conversation up to and including its output (what a follow-up continues).
/// JSON text; times are Unix milliseconds.
/// </summary>
/// <param name="Id">The gateway's own id (the one inside the encoded id the client sees).</param>
/// <param name="Owner">The virtual key's hash that made it; null for the master key (or an open gateway).</param>
public sealed record StoredResponse(
    string Id, string? Owner, string ModelGroup, string Response, string InputItems, string Conversation, long CreatedAt, long ExpiresAt);
