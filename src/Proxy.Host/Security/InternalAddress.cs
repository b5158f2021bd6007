using System.Net;
using System.Net.Sockets;

namespace Proxy.Host.Security;

/// <summary>
/// Addresses a model stored through the admin API must not reach unless the operator allows it: loopback, private
/// (RFC 1918, unique local), link-local (where cloud metadata services live), carrier-grade NAT (Alibaba's metadata
/// address), unspecified, multicast and reserved ranges. IPv4 inside IPv6 (mapped, NAT64) is judged as IPv4.
/// </summary>
internal static class InternalAddress
{
    public static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> b = stackalloc byte[16];
        if (!address.TryWriteBytes(b, out var written))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork && written == 4)
        {
            return IsInternalV4(b[0], b[1], b[2]);
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6 || written != 16)
        {
            return true;
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.IPv6Any) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal
            || address.IsIPv6Multicast)
        {
            return true;
        }

        // fc00::/7: unique local (AWS's metadata service answers on fd00:ec2::254).
        if ((b[0] & 0xFE) == 0xFC)
        {
            return true;
        }

        // 64:ff9b::/96 (NAT64) and ::/96 (IPv4-compatible) carry an IPv4 address in the last four bytes.
        var nat64 = b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && b[4..12].IndexOfAnyExcept((byte)0) < 0;
        var compatible = b[..12].IndexOfAnyExcept((byte)0) < 0;
        return (nat64 || compatible) && IsInternalV4(b[12], b[13], b[14]);
    }

    private static bool IsInternalV4(byte a, byte b, byte c) =>
        a is 0 or 10 or 127 or >= 224                 // this network, private, loopback, multicast and reserved
        || (a == 100 && b is >= 64 and <= 127)         // carrier-grade NAT (100.100.100.200 is Alibaba's metadata)
        || (a == 169 && b == 254)                      // link-local: 169.254.169.254 is every cloud's metadata service
        || (a == 172 && b is >= 16 and <= 31)
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0)              // IETF protocol assignments
        || (a == 198 && b is 18 or 19);                // benchmarking
}
