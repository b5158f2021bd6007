using Proxy.LoadBalancing.Fleet;

namespace Proxy.LoadBalancing.Tests.Fleet;

public class PrefixIndexTests
{
    [Fact]
    public void Match_AfterUse_FindsTheWholeChainAndItsPrefixes()
    {
        var index = new PrefixIndex(1000);
        var chain = Chain(1, 40);
        index.Use(chain);

        Assert.Equal(40, index.Match(chain));
        Assert.Equal(17, index.Match(chain[..17]));
        Assert.Equal(0, index.Match(Chain(2, 40)));
    }

    [Fact]
    public void Match_ChainThatDivergesMidway_CountsOnlyTheSharedBlocks()
    {
        var index = new PrefixIndex(1000);
        var shared = Chain(1, 30);
        index.Use(shared);
        // Same first 12 blocks, then a different tail (different hashes from there on, as a chain would have).
        var other = new ulong[30];
        shared[..12].CopyTo(other);
        Chain(9, 18).CopyTo(other.AsSpan(12));

        Assert.Equal(12, index.Match(other));
    }

    [Fact]
    public void Use_OverCapacity_EvictsTheLeastRecentlyUsedChainsFirst()
    {
        var index = new PrefixIndex(800);
        var old = Chain(1, 100);
        index.Use(old);
        var kept = Chain(2, 100);
        index.Use(kept);
        for (var i = 0; i < 8; i++)
        {
            // Keep one chain warm while filling the index with others.
            index.Use(Chain(10 + i, 100));
            index.Use(kept);
        }

        Assert.True(index.Count <= 800, $"count {index.Count}");
        Assert.Equal(0, index.Match(old));
        Assert.Equal(100, index.Match(kept));
    }

    [Fact]
    public void Use_ManyChains_StaysWithinCapacity()
    {
        var index = new PrefixIndex(5000);
        for (var i = 0; i < 400; i++)
        {
            index.Use(Chain(i, 64));
        }

        Assert.InRange(index.Count, 4000, 5000);
        Assert.Equal(64, index.Match(Chain(399, 64)));
    }

    [Fact]
    public void Remove_TakesTheBlocksOut_AndKeepsTheOthersFindable()
    {
        var index = new PrefixIndex(1000);
        var a = Chain(1, 50);
        var b = Chain(2, 50);
        index.Use(a);
        index.Use(b);

        index.Remove(a[20..]);

        Assert.Equal(20, index.Match(a));
        Assert.Equal(50, index.Match(b));
        Assert.Equal(70, index.Count);
    }

    [Fact]
    public void Clear_ForgetsEverything()
    {
        var index = new PrefixIndex(1000);
        var chain = Chain(1, 10);
        index.Use(chain);

        index.Clear();

        Assert.Equal(0, index.Match(chain));
        Assert.Equal(0, index.Count);
        index.Use(chain);
        Assert.Equal(10, index.Match(chain));
    }

    [Fact]
    public void SetCapacity_Smaller_EvictsDownToIt()
    {
        var index = new PrefixIndex(10_000);
        for (var i = 0; i < 50; i++)
        {
            index.Use(Chain(i, 100));
        }

        index.SetCapacity(1000);

        Assert.True(index.Count <= 1000, $"count {index.Count}");
        Assert.Equal(100, index.Match(Chain(49, 100)));
        Assert.Equal(0, index.Match(Chain(0, 100)));
    }

    [Fact]
    public void Use_WithAHeldPrefixThatWentStale_RefreshesIt_SoItOutlivesNewerChains()
    {
        var index = new PrefixIndex(3200);
        var conversation = Chain(1, 100);
        index.Use(conversation);
        for (var i = 0; i < 40; i++)
        {
            // Other chains (4,000 blocks in all) push the conversation towards the old end; each turn uses it again (held = what matched).
            index.Use(Chain(100 + i, 100));
            var held = index.Match(conversation);
            Assert.Equal(100, held);
            index.Use(conversation, held);
        }

        Assert.Equal(100, index.Match(conversation));
        Assert.Equal(0, index.Match(Chain(100, 100)));
    }

    /// <summary>A chain of distinct non-zero pseudo-hashes, different for every seed.</summary>
    internal static ulong[] Chain(int seed, int length)
    {
        var chain = new ulong[length];
        var x = (ulong)(seed + 1) * 0x9E3779B97F4A7C15UL;
        for (var i = 0; i < length; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chain[i] = x | 1;
        }

        return chain;
    }
}
