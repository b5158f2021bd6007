using Proxy.Abstractions;
using Proxy.LoadBalancing.Retry;

namespace Proxy.LoadBalancing.Tests.Retry;

public class FallbackPlannerTests
{
    private const UpstreamFailureKind Generic = UpstreamFailureKind.InternalServer;

    [Fact]
    public void GroupEntry_IsTheChain()
    {
        var options = new RouterOptions { Fallbacks = Map(("gpt", ["b", "c"]), ("*", ["z"])), DefaultFallbacks = ["d"] };

        Assert.Equal(["b", "c"], FallbackPlanner.For("gpt", Generic, options));
    }

    [Fact]
    public void WithoutAGroupEntry_TheWildcardEntryIsUsed()
    {
        var options = new RouterOptions { Fallbacks = Map(("other", ["b"]), ("*", ["z"])), DefaultFallbacks = ["d"] };

        Assert.Equal(["z"], FallbackPlanner.For("gpt", Generic, options));
    }

    [Fact]
    public void WithoutAnyEntry_DefaultFallbacksAreUsed()
    {
        var options = new RouterOptions { Fallbacks = Map(("other", ["b"])), DefaultFallbacks = ["d", "e"] };

        Assert.Equal(["d", "e"], FallbackPlanner.For("gpt", Generic, options));
    }

    [Fact]
    public void NothingConfigured_NoFallbacks()
    {
        Assert.Empty(FallbackPlanner.For("gpt", Generic, RouterOptions.Default));
    }

    [Fact]
    public void ContextWindowError_UsesTheContextWindowEntry()
    {
        var options = new RouterOptions { Fallbacks = Map(("gpt", ["b"])), ContextWindowFallbacks = Map(("gpt", ["big"])) };

        Assert.Equal(["big"], FallbackPlanner.For("gpt", UpstreamFailureKind.ContextWindowExceeded, options));
        Assert.Equal(["b"], FallbackPlanner.For("gpt", Generic, options));
    }

    [Fact]
    public void ContextWindowListWithoutAnEntryForTheGroup_MeansNoFallback()
    {
        var options = new RouterOptions
        {
            Fallbacks = Map(("gpt", ["b"])),
            DefaultFallbacks = ["d"],
            ContextWindowFallbacks = Map(("other", ["big"])),
        };

        Assert.Empty(FallbackPlanner.For("gpt", UpstreamFailureKind.ContextWindowExceeded, options));
    }

    [Fact]
    public void ContextWindowErrorWithoutAContextWindowList_UsesTheGenericFallbacks()
    {
        var options = new RouterOptions { Fallbacks = Map(("gpt", ["b"])) };

        Assert.Equal(["b"], FallbackPlanner.For("gpt", UpstreamFailureKind.ContextWindowExceeded, options));
    }

    [Fact]
    public void ContentPolicyError_UsesTheContentPolicyEntry_OrNone()
    {
        var options = new RouterOptions { Fallbacks = Map(("gpt", ["b"]), ("other", ["c"])), ContentPolicyFallbacks = Map(("gpt", ["lenient"])) };

        Assert.Equal(["lenient"], FallbackPlanner.For("gpt", UpstreamFailureKind.ContentPolicyViolation, options));
        Assert.Empty(FallbackPlanner.For("other", UpstreamFailureKind.ContentPolicyViolation, options));
    }

    [Fact]
    public void BadRequest_HasNoFallbacks()
    {
        var options = new RouterOptions { Fallbacks = Map(("gpt", ["b"])), DefaultFallbacks = ["d"] };

        Assert.Empty(FallbackPlanner.For("gpt", UpstreamFailureKind.BadRequest, options));
    }

    [Fact]
    public void MaxFallbacks_CapsTheChain()
    {
        var options = new RouterOptions { Fallbacks = Map(("gpt", ["b", "c", "d", "e"])), MaxFallbacks = 2 };

        Assert.Equal(["b", "c"], FallbackPlanner.For("gpt", Generic, options));
    }

    [Fact]
    public void DefaultMaxFallbacks_IsFive()
    {
        var options = new RouterOptions { Fallbacks = Map(("gpt", ["a1", "a2", "a3", "a4", "a5", "a6", "a7"])) };

        Assert.Equal(["a1", "a2", "a3", "a4", "a5"], FallbackPlanner.For("gpt", Generic, options));
    }

    [Fact]
    public void TheGroupItselfAndRepeats_AreSkipped_WithoutUsingUpTheCap()
    {
        var options = new RouterOptions { Fallbacks = Map(("gpt", ["gpt", "b", "b", "c", "d"])), MaxFallbacks = 2 };

        Assert.Equal(["b", "c"], FallbackPlanner.For("gpt", Generic, options));
    }

    [Fact]
    public void WildcardChainNamingTheGroup_SkipsIt()
    {
        var options = new RouterOptions { Fallbacks = Map(("*", ["gpt", "backup"])) };

        Assert.Equal(["backup"], FallbackPlanner.For("gpt", Generic, options));
        Assert.Equal(["gpt", "backup"], FallbackPlanner.For("other", Generic, options));
    }

    private static Dictionary<string, IReadOnlyList<string>> Map(params (string Group, string[] Chain)[] entries)
    {
        var map = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (group, chain) in entries)
        {
            map[group] = chain;
        }

        return map;
    }
}
