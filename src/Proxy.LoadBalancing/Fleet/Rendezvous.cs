namespace Proxy.LoadBalancing.Fleet;

/// <summary>
/// Rendezvous (highest-random-weight) hashing: each deployment's weight for a key is a hash of both, and the key's home is
/// the deployment with the highest weight. Every gateway replica computes the same weights from the same config and
/// prompt, so they agree on a new conversation's home without talking; removing a deployment moves only its own keys.
/// </summary>
internal static class Rendezvous
{
    /// <summary>A stable hash of a deployment id (FNV-1a, then mixed): the same in every process, unlike string.GetHashCode.</summary>
    public static ulong HashId(string id)
    {
        var hash = 0xCBF29CE484222325UL;
        foreach (var c in id)
        {
            hash = (hash ^ c) * 0x100000001B3UL;
        }

        return Mix(hash);
    }

    public static ulong Weight(ulong key, ulong idHash) => Mix(key ^ idHash);

    // SplitMix64's finaliser: every input bit moves every output bit.
    private static ulong Mix(ulong x)
    {
        x ^= x >> 30;
        x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 27;
        x *= 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
