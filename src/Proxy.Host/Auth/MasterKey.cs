using System.Security.Cryptography;
using System.Text;
using Proxy.Abstractions;

namespace Proxy.Host.Auth;

/// <summary>The master key in the form the hot path compares against: UTF-8 bytes, compared in constant time.</summary>
internal sealed class MasterKey
{
    private readonly byte[] _bytes;

    private MasterKey(byte[] bytes) => _bytes = bytes;

    public static MasterKey None { get; } = new([]);

    public bool IsConfigured => _bytes.Length > 0;

    public static MasterKey From(Secret? secret) =>
        secret is { IsEmpty: false } s ? new MasterKey(Encoding.UTF8.GetBytes(s.Value)) : None;

    /// <summary>HMAC-SHA256 of the label keyed by the master key: a secret tied to the key that does not reveal it.</summary>
    public byte[] Derive(ReadOnlySpan<byte> label) => HMACSHA256.HashData(_bytes, label);

    public bool Matches(ReadOnlySpan<char> presented)
    {
        if (!IsConfigured || presented.IsEmpty || presented.Length > 1024)
        {
            return false;
        }

        Span<byte> buffer = stackalloc byte[Encoding.UTF8.GetMaxByteCount(presented.Length)];
        var written = Encoding.UTF8.GetBytes(presented, buffer);
        return CryptographicOperations.FixedTimeEquals(buffer[..written], _bytes);
    }
}
