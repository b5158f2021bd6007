using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Proxy.Admin.Models;

/// <summary>
/// Encrypts the <c>api_key</c> of models stored through the admin API before they reach the database, with AES-256-GCM
/// under a key derived from <c>LITELLM_SALT_KEY</c> (SHA-256 of it, as LiteLLM derives its key) or, without one, from
/// the master key. A stored value is <c>enc:v1:</c> + base64(nonce ‖ ciphertext ‖ tag); anything else is an older
/// plaintext row, still read as it is and encrypted when it is next written. LiteLLM encrypts with NaCl's secretbox, so
/// its rows are not readable here (nor ours there).
/// </summary>
internal sealed class StoredSecretCipher
{
    public const string Prefix = "enc:v1:";

    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    // Binds a ciphertext to the field it was made for.
    private static readonly byte[] AssociatedData = "litellm_params.api_key"u8.ToArray();

    private readonly byte[] _key;

    private StoredSecretCipher(byte[] key) => _key = key;

    /// <summary>The cipher for this gateway's keys; null when there is neither a salt key nor a master key.</summary>
    public static StoredSecretCipher? Create(string? saltKey, string? masterKey)
    {
        if (!string.IsNullOrEmpty(saltKey))
        {
            return new StoredSecretCipher(SHA256.HashData(Encoding.UTF8.GetBytes(saltKey)));
        }

        return string.IsNullOrEmpty(masterKey)
            ? null
            : new StoredSecretCipher(HMACSHA256.HashData(Encoding.UTF8.GetBytes(masterKey), "litellm stored model secrets v1"u8));
    }

    public static bool IsEncrypted(string value) => value.StartsWith(Prefix, StringComparison.Ordinal);

    public string Encrypt(string plaintext)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var sealedBytes = new byte[NonceBytes + plain.Length + TagBytes];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagBytes);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceBytes, plain.Length), sealedBytes.AsSpan(NonceBytes + plain.Length), AssociatedData);
        return Prefix + Convert.ToBase64String(sealedBytes);
    }

    /// <summary>The plaintext of a stored value; a plaintext row is returned as it is. False when it cannot be decrypted.</summary>
    public bool TryDecrypt(string stored, out string plaintext)
    {
        plaintext = stored;
        if (!IsEncrypted(stored))
        {
            return true;
        }

        byte[] sealedBytes;
        try
        {
            sealedBytes = Convert.FromBase64String(stored[Prefix.Length..]);
        }
        catch (FormatException)
        {
            return false;
        }

        if (sealedBytes.Length < NonceBytes + TagBytes)
        {
            return false;
        }

        var length = sealedBytes.Length - NonceBytes - TagBytes;
        var plain = new byte[length];
        try
        {
            using var aes = new AesGcm(_key, TagBytes);
            aes.Decrypt(sealedBytes.AsSpan(0, NonceBytes), sealedBytes.AsSpan(NonceBytes, length), sealedBytes.AsSpan(NonceBytes + length), plain, AssociatedData);
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }

        plaintext = Encoding.UTF8.GetString(plain);
        return true;
    }

    /// <summary>litellm_params as the database keeps them: the api_key encrypted (already encrypted values stay).</summary>
    public string Seal(string litellmParamsJson)
    {
        if (JsonNode.Parse(litellmParamsJson) is not JsonObject parameters || parameters["api_key"] is not JsonValue value
            || !value.TryGetValue<string>(out var key) || key.Length == 0 || IsEncrypted(key))
        {
            return litellmParamsJson;
        }

        parameters["api_key"] = Encrypt(key);
        return parameters.ToJsonString();
    }

    /// <summary>litellm_params as the gateway uses them: the api_key decrypted. False when it cannot be decrypted.</summary>
    public bool TryOpen(string storedJson, out string litellmParamsJson)
    {
        litellmParamsJson = storedJson;
        if (!storedJson.Contains(Prefix, StringComparison.Ordinal) || JsonNode.Parse(storedJson) is not JsonObject parameters
            || parameters["api_key"] is not JsonValue value || !value.TryGetValue<string>(out var key) || !IsEncrypted(key))
        {
            return true;
        }

        if (!TryDecrypt(key, out var plain))
        {
            return false;
        }

        parameters["api_key"] = plain;
        litellmParamsJson = parameters.ToJsonString();
        return true;
    }

    /// <summary>Whether the stored litellm_params still hold a plaintext api_key (a row from before encryption).</summary>
    public static bool HasPlaintextKey(string storedJson) =>
        JsonNode.Parse(storedJson) is JsonObject parameters && parameters["api_key"] is JsonValue value
        && value.TryGetValue<string>(out var key) && key.Length > 0 && !IsEncrypted(key);
}
