using Proxy.Abstractions;
using Proxy.LoadBalancing.Eligibility;
using Proxy.LoadBalancing.Tests.TestSupport;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Tests.Eligibility;

/// <summary>LiteLLM's tag routing as the eligibility step applies it (router/tag_based_routing.get_deployments_for_tag).</summary>
public class TagEligibilityTests
{
    private static Deployment Tagged(string id, params string[] tags) => Destinations.Deployment(id) with { Tags = tags };

    private static IReadOnlyList<DestinationState> Select(IReadOnlyList<DestinationState> available, TagQuery? tags, out EligibilityVerdict verdict)
    {
        List<DestinationState>? scratch = null;
        return DeploymentEligibility.Select(available, null, new EligibilityQuery(10, false, 0, tags), ref scratch, out verdict);
    }

    private static string[] Ids(IReadOnlyList<DestinationState> destinations) => [.. destinations.Select(d => d.DestinationId)];

    [Fact]
    public void A_tagged_request_goes_only_to_the_deployments_with_one_of_its_tags()
    {
        var available = Destinations.For(Tagged("free", "free"), Tagged("paid", "paid", "eu"), Tagged("both", "free", "paid"), Tagged("none"));

        var eligible = Select(available, new TagQuery(["paid"], matchAny: true), out var verdict);

        Assert.Equal(EligibilityVerdict.Eligible, verdict);
        Assert.Equal(["paid", "both"], Ids(eligible));
    }

    [Fact]
    public void With_match_all_every_request_tag_must_be_on_the_deployment()
    {
        var available = Destinations.For(Tagged("paid", "paid"), Tagged("paid-eu", "paid", "eu"));

        Assert.Equal(["paid-eu"], Ids(Select(available, new TagQuery(["paid", "eu"], matchAny: false), out _)));
        Assert.Equal(["paid", "paid-eu"], Ids(Select(available, new TagQuery(["paid", "eu"], matchAny: true), out _)));
    }

    [Fact]
    public void No_match_falls_back_to_the_default_tagged_deployments()
    {
        var available = Destinations.For(Tagged("free", "free"), Tagged("fallback", "default"), Tagged("untagged"));

        Assert.Equal(["fallback"], Ids(Select(available, new TagQuery(["gold"], matchAny: true), out _)));
    }

    [Fact]
    public void No_match_and_no_default_deployment_refuses_the_request()
    {
        var available = Destinations.For(Tagged("free", "free"), Tagged("untagged"));

        var eligible = Select(available, new TagQuery(["gold"], matchAny: true), out var verdict);

        Assert.Equal(EligibilityVerdict.TagsNotMatched, verdict);
        Assert.Empty(eligible);
    }

    [Fact]
    public void An_untagged_request_uses_the_default_deployments_when_there_are_any_and_else_all()
    {
        var withDefault = Destinations.For(Tagged("free", "free"), Tagged("fallback", "default"));
        var withoutDefault = Destinations.For(Tagged("free", "free"), Tagged("untagged"));

        Assert.Equal(["fallback"], Ids(Select(withDefault, new TagQuery([], matchAny: true), out _)));
        Assert.Same(withoutDefault, Select(withoutDefault, new TagQuery([], matchAny: true), out _));
    }

    [Fact]
    public void Tag_filtering_off_changes_nothing_and_allocates_no_list()
    {
        var available = Destinations.For(Tagged("free", "free"), Tagged("fallback", "default"));

        Assert.Same(available, Select(available, null, out var verdict));
        Assert.Equal(EligibilityVerdict.Eligible, verdict);
    }

    [Fact]
    public void Nothing_healthy_is_a_cooldown_verdict_whatever_the_tags()
    {
        Select([], new TagQuery(["gold"], matchAny: true), out var verdict);

        Assert.Equal(EligibilityVerdict.NoneHealthy, verdict);
    }

    [Fact]
    public void Matching_deployments_over_their_limits_are_over_limits_not_a_tag_refusal()
    {
        var busy = Tagged("paid", "paid") with { MaxParallelRequests = 1 };
        busy.Stats.RequestStarted(0);
        var available = Destinations.For(busy, Tagged("free", "free"));

        var eligible = Select(available, new TagQuery(["paid"], matchAny: true), out var verdict);

        Assert.Equal(EligibilityVerdict.OverLimits, verdict);
        Assert.Empty(eligible);
    }
}
