using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Proxy.Admin.Ui;

/// <summary>
/// Login credentials and session tokens. A token is <c>{expiry}.{nonce}.{mac}</c>: the MAC is HMAC-SHA256 under a key
/// derived from the master key, the UI username and the UI password, so it proves the server issued it without being
/// (or revealing) the master key, any replica with the same config accepts it, and changing either secret ends every
/// session. Logout revokes the token's nonce in this process until the token would have expired anyway.
/// </summary>
internal sealed class UiSessions(UiOptions options, IMasterKeyAccess masterKey, TimeProvider time)
{
    public const string CookieName = "token";
    private const int MaxTokenLength = 128;
    private const int MaxRevoked = 100_000;

    private readonly ConcurrentDictionary<string, long> _revoked = new(StringComparer.Ordinal);
    private readonly byte[] _username = SHA256.HashData(Encoding.UTF8.GetBytes(options.Username));
    private readonly byte[]? _password = options.Password is { IsEmpty: false } p ? SHA256.HashData(Encoding.UTF8.GetBytes(p.Value)) : null;

    public TimeSpan Duration => options.SessionDuration;

    /// <summary>Checks both fields in constant time (hashes first, so that lengths do not leak either).</summary>
    public bool CredentialsMatch(string username, string password)
    {
        var userOk = CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(username)), _username);
        var passwordOk = _password is null
            ? masterKey.Matches(password)
            : CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(password)), _password);
        return userOk & passwordOk;
    }

    public string Issue()
    {
        var expires = time.GetUtcNow().Add(options.SessionDuration).ToUnixTimeSeconds();
        var payload = string.Concat(expires.ToString(CultureInfo.InvariantCulture), ".", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        return string.Concat(payload, ".", Base64Url(Mac(payload)));
    }

    /// <summary>True for a token this server issued under the current secrets that has not expired or been revoked.</summary>
    public bool IsValid(string? token, out long expiresUnixSeconds)
    {
        expiresUnixSeconds = 0;
        if (!masterKey.IsConfigured || string.IsNullOrEmpty(token) || token.Length > MaxTokenLength)
        {
            return false;
        }

        var macStart = token.LastIndexOf('.');
        var nonceStart = macStart > 0 ? token.LastIndexOf('.', macStart - 1) : -1;
        if (nonceStart <= 0
            || !long.TryParse(token.AsSpan(0, nonceStart), NumberStyles.None, CultureInfo.InvariantCulture, out expiresUnixSeconds)
            || expiresUnixSeconds <= time.GetUtcNow().ToUnixTimeSeconds())
        {
            return false;
        }

        Span<byte> presented = stackalloc byte[64];
        if (!Convert.TryFromBase64Chars(FromBase64Url(token.AsSpan(macStart + 1), stackalloc char[MaxTokenLength]), presented, out var written))
        {
            return false;
        }

        var expected = Mac(token[..macStart]);
        if (!CryptographicOperations.FixedTimeEquals(presented[..written], expected))
        {
            return false;
        }

        return !_revoked.ContainsKey(token[(nonceStart + 1)..macStart]);
    }

    public void Revoke(string? token)
    {
        if (!IsValid(token, out var expires))
        {
            return;
        }

        var macStart = token!.LastIndexOf('.');
        var nonceStart = token.LastIndexOf('.', macStart - 1);
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        if (_revoked.Count >= MaxRevoked)
        {
            foreach (var (nonce, until) in _revoked)
            {
                if (until <= now)
                {
                    _revoked.TryRemove(nonce, out _);
                }
            }
        }

        _revoked[token[(nonceStart + 1)..macStart]] = expires;
    }

    private byte[] Mac(string payload)
    {
        // The key binds the session to the master key and to the UI credentials of this config.
        var label = new byte[16 + _username.Length + 32];
        "proxy-ui-session"u8.CopyTo(label);
        _username.CopyTo(label, 16);
        (_password ?? new byte[32]).CopyTo(label, 16 + _username.Length);
        var key = masterKey.Derive(label);
        return HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(payload));
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static ReadOnlySpan<char> FromBase64Url(ReadOnlySpan<char> text, Span<char> buffer)
    {
        if (text.Length + 3 > buffer.Length)
        {
            return default;
        }

        for (var i = 0; i < text.Length; i++)
        {
            buffer[i] = text[i] switch { '-' => '+', '_' => '/', var c => c };
        }

        var length = text.Length;
        while (length % 4 != 0)
        {
            buffer[length++] = '=';
        }

        return buffer[..length];
    }
}
