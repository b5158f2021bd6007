namespace Proxy.Abstractions;

/// <summary>
/// Accepts virtual keys (<c>sk-…</c> issued by /key/generate) beside the master key. The host's auth middleware calls
/// <see cref="Check"/> first, which answers from memory; only a key the cache does not know costs one store lookup.
/// On success both fill <see cref="GatewayRequestContext.KeyHash"/> and <see cref="GatewayRequestContext.KeyAlias"/>.
/// </summary>
public interface IVirtualKeyAuthenticator
{
    /// <summary>Answers from the in-memory cache; <see cref="VirtualKeyCheck.Unknown"/> means ask <see cref="LookupAsync"/>.</summary>
    VirtualKeyCheck Check(ReadOnlySpan<char> presented, GatewayRequestContext request, out GatewayError error);

    /// <summary>One store lookup for a key the cache does not know; null when the key is accepted.</summary>
    ValueTask<GatewayError?> LookupAsync(string presented, GatewayRequestContext request, CancellationToken cancellationToken);

    /// <summary>
    /// For a model route, before its body is read: a key already at its max_parallel_requests or rpm_limit is refused
    /// (429) without the gateway buffering its body. Counts nothing; the full check runs once the model is known.
    /// </summary>
    GatewayError? CheckLimitsBeforeBody(GatewayRequestContext request);

    /// <summary>Whether the request's virtual key may use the model group (reached as <paramref name="requested"/>, a group or an alias).</summary>
    bool AllowsModel(GatewayRequestContext request, string requested, string group);
}
