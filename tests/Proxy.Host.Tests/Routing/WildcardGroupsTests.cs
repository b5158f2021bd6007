using Proxy.Host.Routing;

namespace Proxy.Host.Tests.Routing;

public sealed class WildcardGroupsTests
{
    private static ModelGroup Group(string name) => new() { Name = name, ClusterId = "group:" + name, Deployments = [] };

    [Theory]
    [InlineData("hosted_vllm/Qwen/Qwen3-8B", "hosted_vllm/*", "Qwen/Qwen3-8B")]
    [InlineData("mistral/large", "*", "mistral/large")]
    [InlineData("hosted_vllm/fo::x::static::y", "hosted_vllm/fo::*::static::*", "x|y")]
    public void The_most_specific_pattern_matches_and_its_stars_are_captured(string model, string group, string segments)
    {
        var wildcards = WildcardGroups.Build([Group("*"), Group("hosted_vllm/*"), Group("hosted_vllm/fo::*::static::*"), Group("exact")]);

        Assert.True(wildcards.TryMatch(model, out var matched, out var captured));
        Assert.Equal(group, matched.Name);
        Assert.Equal(segments, string.Join('|', captured));
    }

    [Theory]
    [InlineData("*", new[] { "Qwen/Qwen3-8B" }, "Qwen/Qwen3-8B")]
    [InlineData("fo::*::static::*", new[] { "x", "y" }, "fo::x::static::y")]
    [InlineData("fixed-model", new[] { "ignored" }, "fixed-model")]
    [InlineData("*", new[] { "a", "b" }, "requested")]
    public void The_deployments_model_takes_the_segments_in_order(string template, string[] segments, string expected)
    {
        Assert.Equal(expected, WildcardGroups.Resolve(template, segments, "requested"));
    }

    [Fact]
    public void Discovered_models_are_listed_under_the_pattern_with_its_star_filled()
    {
        Assert.Equal("hosted_vllm/Qwen/Qwen3-8B", WildcardGroups.ListedName("hosted_vllm/*", "Qwen/Qwen3-8B"));
        Assert.Null(WildcardGroups.ListedName("a*b*", "x"));
    }
}
