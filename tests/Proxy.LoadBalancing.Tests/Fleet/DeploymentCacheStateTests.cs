using Proxy.Abstractions;
using Proxy.LoadBalancing.Fleet;

namespace Proxy.LoadBalancing.Tests.Fleet;

public class DeploymentCacheStateTests
{
    [Fact]
    public void Learn_NoHitsThreeTimesWherePredicted_DropsTheIndex()
    {
        var state = new DeploymentCacheState("d");
        var chain = PrefixIndexTests.Chain(1, 20);
        state.Index.Use(chain);

        Assert.NotEqual(CacheFeedback.Dropped, state.Learn(300, 0, 20));
        Assert.NotEqual(CacheFeedback.Dropped, state.Learn(300, 0, 20));
        Assert.Equal(CacheFeedback.Dropped, state.Learn(300, 0, 20));

        Assert.Equal(0, state.Index.Match(chain));
        Assert.Equal(1, state.Drops);
    }

    [Fact]
    public void Learn_AHitInBetween_StartsTheCountAgain()
    {
        var state = new DeploymentCacheState("d");
        state.Index.Use(PrefixIndexTests.Chain(1, 20));

        state.Learn(300, 0, 20);
        state.Learn(300, 0, 20);
        state.Learn(300, 280, 20);
        state.Learn(300, 0, 20);

        Assert.Equal(0, state.Drops);
    }

    [Fact]
    public void Learn_OverPredicted_ShrinksTheIndex_AndGoodPredictionsGrowItBack()
    {
        var state = new DeploymentCacheState("d");
        var before = state.Index.Capacity;

        Assert.Equal(CacheFeedback.OverPredicted, state.Learn(2000, 500, 100));
        var shrunk = state.Index.Capacity;
        Assert.True(shrunk < before, $"{shrunk} < {before}");

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(CacheFeedback.Held, state.Learn(2000, 1990, 100));
        }

        Assert.True(state.Index.Capacity > shrunk, $"{state.Index.Capacity} > {shrunk}");
    }

    [Fact]
    public void SyncCapacity_SizesTheIndexFromTheEnginesCacheConfig()
    {
        var state = new DeploymentCacheState("d");
        var engine = new EngineLoad();
        engine.Update(0, 0, 0, blockSize: 16, gpuBlocks: 2048, inFlightAtScrape: 0, freshUntil: 1);

        state.SyncCapacity(engine);

        // 2048 blocks x 16 tokens x 4 bytes a token (the starting estimate) / 64 bytes a block.
        Assert.Equal(2048, state.Index.Capacity);
    }

    [Fact]
    public void LearnScale_MovesBytesPerTokenTowardsWhatUsageSays()
    {
        var state = new DeploymentCacheState("d");
        for (var i = 0; i < 100; i++)
        {
            state.LearnScale(6000, 1000);
        }

        Assert.InRange(state.BytesPerToken, 5.9, 6.0);
        Assert.InRange(state.TokensFor(10, int.MaxValue), 105, 108);
    }
}
