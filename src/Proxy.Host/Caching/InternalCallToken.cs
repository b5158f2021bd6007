using System.Security.Cryptography;

namespace Proxy.Host.Caching;

/// <summary>
/// The credential with which the gateway calls its own endpoints (the semantic cache's embeddings): random per process,
/// never configured, logged or sent upstream (it travels in <c>Authorization</c>, which the upstream transform replaces).
/// </summary>
internal sealed class InternalCallToken
{
    private const string Prefix = "sk-gateway-internal-";

    public InternalCallToken()
    {
        Value = Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public string Value { get; }

    public bool Matches(ReadOnlySpan<char> presented) =>
        presented.Length == Value.Length && presented.StartsWith(Prefix, StringComparison.Ordinal)
        && CryptographicOperations.FixedTimeEquals(System.Runtime.InteropServices.MemoryMarshal.AsBytes(presented), System.Runtime.InteropServices.MemoryMarshal.AsBytes(Value.AsSpan()));
}
