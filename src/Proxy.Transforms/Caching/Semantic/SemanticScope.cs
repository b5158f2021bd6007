using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Proxy.Transforms.Caching.Semantic;

/// <summary>
/// Which stored answers a request may be answered from, and the id of its own entry. The scope is one hash over the
/// exact cache key of the request's skeleton (endpoint, model group, every parameter that changes the answer, the
/// namespace and the tenant: whatever the exact key covers, it covers) and the embedding model group (vectors of two
/// models cannot be compared). Only the prompt text is left to similarity.
/// </summary>
internal static class SemanticScope
{
    /// <summary>
    /// Who shares entries. As LiteLLM's semantic cache, answers are kept per virtual key (requests with the master key or
    /// on an open gateway share one scope), so one key's cached answers never reach another key; <c>scope: team</c>
    /// lets a team's keys share. A global semantic cache is not offered: a similar prompt from another tenant must not
    /// get this one's answer.
    /// </summary>
    public static CacheScope TenantScope(CacheScope configured) => configured == CacheScope.Team ? CacheScope.Team : CacheScope.Key;

    /// <summary>64 hex digits: the skeleton's exact key (which carries the tenant) and the embedding model group.</summary>
    public static string Of(string skeletonKey, string embeddingModel) =>
        Hash("semantic-scope\n" + skeletonKey + "\n" + embeddingModel, 32);

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
