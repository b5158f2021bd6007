using System.Security.Cryptography;
using System.Text;

namespace Proxy.Admin.Keys;

/// <summary>LiteLLM stores a virtual key as <c>sha256(key).hexdigest()</c>; so do we, so that hashes mean the same in both.</summary>
internal static class KeyHasher
{
    public const int HashLength = 64;

    /// <summary>Writes the lowercase hex SHA-256 of the key's UTF-8 bytes; false for keys too long to be real.</summary>
    public static bool TryHash(ReadOnlySpan<char> key, Span<char> hex)
    {
        if (key.Length is 0 or > 512)
        {
            return false;
        }

        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(key.Length)];
        var length = Encoding.UTF8.GetBytes(key, utf8);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(utf8[..length], digest);
        return Convert.TryToHexStringLower(digest, hex, out _);
    }

    public static string Hash(string key)
    {
        Span<char> hex = stackalloc char[HashLength];
        return TryHash(key, hex) ? new string(hex) : throw new ArgumentException("Key is empty or too long.", nameof(key));
    }

    /// <summary>An API argument may be the key itself (<c>sk-…</c>) or its hash, as LiteLLM accepts both.</summary>
    public static string TokenOf(string keyOrHash) =>
        keyOrHash.StartsWith("sk-", StringComparison.Ordinal) ? Hash(keyOrHash) : keyOrHash;

    /// <summary>LiteLLM's key_name: "sk-...last4".</summary>
    public static string KeyName(string key) => key.Length <= 7 ? "sk-..." : "sk-..." + key[^4..];

    /// <summary><c>sk-</c> + 22 URL-safe characters (Python's token_urlsafe(16)).</summary>
    public static string NewKey()
    {
        Span<byte> random = stackalloc byte[16];
        RandomNumberGenerator.Fill(random);
        return "sk-" + Convert.ToBase64String(random).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
