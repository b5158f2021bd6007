using Microsoft.AspNetCore.Http;
using Proxy.Host.Pipeline;
using Proxy.Host.Routing;

namespace Proxy.Host.Tests.Routing;

public sealed class PassThroughPathTests
{
    [Theory]
    [InlineData("/vllm/score", "", "/score")]
    [InlineData("/vllm/v1/chat/completions", "?a=1&b=%20", "/v1/chat/completions?a=1&b=%20")]
    [InlineData("/vllm/classify", "", "/classify")]
    [InlineData("/vllm/a b", "", "/a%20b")]
    public void A_vllm_path_becomes_the_same_path_under_the_server_root(string path, string query, string expected)
    {
        Assert.True(VllmPassThroughPath.TryBuild(new PathString(path), new QueryString(query), out var upstream, out _));
        Assert.Equal(expected, upstream);
    }

    [Theory]
    [InlineData("/vllm/")]
    [InlineData("/vllm//score")]
    [InlineData("/vllm/../key/generate")]
    [InlineData("/vllm/./x")]
    [InlineData("/vllm/a%2Fb")]
    [InlineData("/vllm/a%5cb")]
    [InlineData("/vllm/a\\b")]
    public void Paths_that_could_leave_the_root_are_refused(string path)
    {
        Assert.False(VllmPassThroughPath.TryBuild(new PathString(path), QueryString.Empty, out _, out var error));
        Assert.Equal(400, error.Status);
    }

    [Theory]
    [InlineData("/vllm/../key/generate", true)]
    [InlineData("/vllm/%2e%2E/key", true)]
    [InlineData("/vllm/./score", true)]
    [InlineData("/a/.%2e/b?x=1", true)]
    [InlineData("/v1/models/Qwen2.5-7B", false)]
    [InlineData("/vllm/score?next=../x", false)]
    [InlineData("/v1/chat/completions", false)]
    [InlineData("/files/.../x", false)]
    public void Dot_segments_are_found_in_the_raw_target_however_they_are_spelled(string target, bool expected)
    {
        Assert.Equal(expected, DotSegmentGuard.HasDotSegment(target));
    }
}
