using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Proxy.Host.Auth;

/// <summary>
/// Failed authentications per client address (an IPv6 client by its /64, which one host usually owns whole) in a fixed
/// one-minute window. Past <see cref="MaxFailuresPerWindow"/>, the address's key attempts that memory cannot accept
/// (a wrong master key, an unknown <c>sk-</c> key) get a 429 until the window ends, and unknown keys from it are
/// looked up in the store at most once a second: guessing keys gets slow and costs the database almost nothing. Keys
/// the gateway already knows (the master key, cached virtual keys) are never slowed, so a tenant behind the same NAT
/// as an attacker keeps working.
/// </summary>
internal sealed class AuthFailureThrottle(TimeProvider time)
{
    public const int MaxFailuresPerWindow = 20;

    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    // While throttled, one store lookup per second per address still goes through, so a real new key gets in.
    private static readonly TimeSpan LookupInterval = TimeSpan.FromSeconds(1);

    // Bounded so that a flood from many addresses cannot grow memory without end; starting over only forgets counts.
    private const int MaxTracked = 100_000;

    private readonly ConcurrentDictionary<ClientBucket, Counter> _counters = new();

    /// <summary>Seconds until the address may fail again, or 0 when it is not throttled.</summary>
    public int RetryAfterSeconds(IPAddress? address)
    {
        if (address is null || !_counters.TryGetValue(ClientBucket.Of(address), out var counter))
        {
            return 0;
        }

        var now = time.GetTimestamp();
        lock (counter)
        {
            return counter.Failures >= MaxFailuresPerWindow ? SecondsLeft(counter, now) : 0;
        }
    }

    /// <summary>
    /// For a throttled address: whether one more store lookup may go through now (at most one a second). True for an
    /// address that is not throttled.
    /// </summary>
    public bool TryAdmitLookup(IPAddress? address)
    {
        if (address is null || !_counters.TryGetValue(ClientBucket.Of(address), out var counter))
        {
            return true;
        }

        var now = time.GetTimestamp();
        lock (counter)
        {
            if (counter.Failures < MaxFailuresPerWindow || SecondsLeft(counter, now) == 0)
            {
                return true;
            }

            if (counter.LastLookup != 0 && time.GetElapsedTime(counter.LastLookup, now) < LookupInterval)
            {
                return false;
            }

            counter.LastLookup = now;
            return true;
        }
    }

    public void Failed(IPAddress? address)
    {
        if (address is null)
        {
            return;
        }

        if (_counters.Count >= MaxTracked)
        {
            _counters.Clear();
        }

        var counter = _counters.GetOrAdd(ClientBucket.Of(address), static _ => new Counter());
        var now = time.GetTimestamp();
        lock (counter)
        {
            if (counter.WindowStart == 0 || time.GetElapsedTime(counter.WindowStart, now) >= Window)
            {
                counter.WindowStart = now;
                counter.Failures = 0;
                counter.LastLookup = 0;
            }

            counter.Failures++;
        }
    }

    private int SecondsLeft(Counter counter, long now)
    {
        var left = Window - time.GetElapsedTime(counter.WindowStart, now);
        return left > TimeSpan.Zero ? (int)Math.Ceiling(left.TotalSeconds) : 0;
    }

    private sealed class Counter
    {
        public long WindowStart;
        public int Failures;
        public long LastLookup;
    }

    /// <summary>An IPv4 address, or the /64 prefix of an IPv6 one (IPv4-mapped addresses count as IPv4).</summary>
    internal readonly record struct ClientBucket(ulong Prefix, bool IsV6)
    {
        public static ClientBucket Of(IPAddress address)
        {
            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            Span<byte> bytes = stackalloc byte[16];
            address.TryWriteBytes(bytes, out var written);
            if (address.AddressFamily == AddressFamily.InterNetworkV6 && written == 16)
            {
                return new ClientBucket(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes), true);
            }

            return new ClientBucket(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes), false);
        }
    }
}
