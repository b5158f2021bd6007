namespace Proxy.Transforms.Caching.Semantic;

/// <summary>
/// Embeds a prompt through one of the gateway's own model groups (its routing, retries and cooldown), on the gateway's
/// account rather than the caller's key. The host implements it; the semantic cache bounds it with its timeout.
/// </summary>
public interface ISemanticEmbedder
{
    /// <summary>The embedding, or a failure saying why (the request then goes upstream uncached). Cancelled when the lookup gives up.</summary>
    ValueTask<EmbeddingResult> EmbedAsync(EmbeddingRequest request, CancellationToken cancellationToken);
}
