using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Proxy.Abstractions;

namespace Proxy.Transforms.Caching.Semantic;

/// <summary>
/// Which stored answers a request may be answered from, and the id of its own entry. The scope is one hash over the
/// exact cache key of the request's skeleton (endpoint, model group, every parameter that changes the answer, the
/// namespace: whatever the exact key covers, it covers), the embedding model group (vectors of two models cannot be
/// compared) and the tenant. Only the prompt text is left to similarity.
/// </summary>
internal static class SemanticScope
{
    /// <summary>
    /// The tenant part of the scope. As LiteLLM's semantic cache, answers are kept per virtual key by default
    /// (requests with the master key or on an open gateway share one tenant), so one key's cached answers never reach
    /// another key. This is the one input to extend when the cache scope becomes configurable (key, team, global).
    /// </summary>
    public static string TenantOf(GatewayRequestContext request) => request.Caller.KeyHash is { } hash ? "key:" + hash : "master";

    /// <summary>64 hex digits.</summary>
    public static string Of(string skeletonKey, string embeddingModel, string tenant) =>
        Hash("semantic-scope\n" + skeletonKey + "\n" + embeddingModel + "\n" + tenant, 32);

    /// <summary>The entry of this scope and exact text (32 hex digits): a repeated prompt overwrites rather than duplicates.</summary>
    public static string EntryId(string scope, string text) => Hash(scope + "\n" + text, 16);

    private static string Hash(string value, int bytes)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = Encoding.UTF8.GetBytes(value, buffer);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer.AsSpan(0, written), hash);
            return Convert.ToHexStringLower(hash[..bytes]);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
