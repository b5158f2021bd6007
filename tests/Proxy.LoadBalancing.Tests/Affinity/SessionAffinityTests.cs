using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Proxy.Abstractions;
using Proxy.LoadBalancing.Affinity;
using Proxy.LoadBalancing.Policies;
using Proxy.LoadBalancing.Tests.TestSupport;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Tests.Affinity;

public class SessionAffinityTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly DestinationState[] _available = Destinations.For(Destinations.Deployment("a"), Destinations.Deployment("b"), Destinations.Deployment("c"));

    private SessionAffinity Affinity(AffinityOptions options) =>
        new(new StaticRouterOptions(RouterOptions.Default with { Affinity = options }), _time);

    [Fact]
    public void Session_IsPinnedToTheDeploymentOfItsFirstAnswer()
    {
        var affinity = Affinity(new AffinityOptions { SessionAffinity = true });
        Assert.False(affinity.TryApply(Attempt(session: "s1"), Request(session: "s1")));
        affinity.Remember(Answered(), Request(session: "s1", answeredBy: "b"));

        var context = Attempt(session: "s1");
        Assert.True(affinity.TryApply(context, Request(session: "s1")));

        Assert.Equal("b", Assert.Single(Proxy(context).AvailableDestinations).DestinationId);
        Assert.Equal("session", context.Response.Headers[PrefixCacheAwarePolicy.DecisionHeader].ToString());
        Assert.False(affinity.TryApply(Attempt(session: "s2"), Request(session: "s2")));
    }

    [Fact]
    public void PinnedDeploymentNotAmongTheCandidates_LeavesThemAlone_AndThePinStays()
    {
        var affinity = Affinity(new AffinityOptions { SessionAffinity = true });
        affinity.Remember(Answered(), Request(session: "s1", answeredBy: "b"));

        // b is cooling down: not a candidate. The session is served by c meanwhile.
        var context = Attempt(session: "s1", _available[0], _available[2]);
        Assert.False(affinity.TryApply(context, Request(session: "s1")));
        Assert.Equal(2, Proxy(context).AvailableDestinations.Count);
        affinity.Remember(Answered(), Request(session: "s1", answeredBy: "c"));

        // b is back: the session comes home (the first writer keeps the pin).
        var back = Attempt(session: "s1");
        Assert.True(affinity.TryApply(back, Request(session: "s1")));
        Assert.Equal("b", Assert.Single(Proxy(back).AvailableDestinations).DestinationId);
    }

    [Fact]
    public void Pin_IdleForTheTtl_IsForgotten_ButUseKeepsItAlive()
    {
        var affinity = Affinity(new AffinityOptions { SessionAffinity = true, Ttl = TimeSpan.FromSeconds(60) });
        affinity.Remember(Answered(), Request(session: "s1", answeredBy: "a"));
        _time.Advance(TimeSpan.FromSeconds(50));
        Assert.True(affinity.TryApply(Attempt(session: "s1"), Request(session: "s1")));
        affinity.Remember(Answered(), Request(session: "s1", answeredBy: "a"));
        _time.Advance(TimeSpan.FromSeconds(50));
        Assert.True(affinity.TryApply(Attempt(session: "s1"), Request(session: "s1")));

        _time.Advance(TimeSpan.FromSeconds(61));
        Assert.False(affinity.TryApply(Attempt(session: "s1"), Request(session: "s1")));
    }

    [Fact]
    public void SessionIds_AreScopedByTheCallersKey()
    {
        var affinity = Affinity(new AffinityOptions { SessionAffinity = true });
        affinity.Remember(Answered(), Request(session: "shared", key: "key-1", answeredBy: "a"));

        Assert.True(affinity.TryApply(Attempt(session: "shared"), Request(session: "shared", key: "key-1")));
        Assert.False(affinity.TryApply(Attempt(session: "shared"), Request(session: "shared", key: "key-2")));
    }

    [Fact]
    public void DeploymentAffinity_PinsAVirtualKey_WithoutASessionId()
    {
        var affinity = Affinity(new AffinityOptions { DeploymentAffinity = true });
        affinity.Remember(Answered(), Request(key: "key-1", answeredBy: "c"));

        var context = Attempt(session: null);
        Assert.True(affinity.TryApply(context, Request(key: "key-1")));
        Assert.Equal("c", Assert.Single(Proxy(context).AvailableDestinations).DestinationId);
        Assert.False(affinity.TryApply(Attempt(session: null), Request(key: null)));
    }

    [Fact]
    public void ModelGroupAffinityConfig_ReplacesTheGlobalChecksForItsGroups()
    {
        var options = new AffinityOptions
        {
            SessionAffinity = true,
            PerGroup = new Dictionary<string, IReadOnlyList<string>> { ["other"] = ["deployment_affinity"], ["group"] = [] },
        };

        Assert.Equal((false, false), SessionAffinity.ChecksFor(options, "group"));
        Assert.Equal((false, true), SessionAffinity.ChecksFor(options, "other"));
        Assert.Equal((true, false), SessionAffinity.ChecksFor(options, "unlisted"));
    }

    [Fact]
    public void FailedAnswer_ClaimsNoPin()
    {
        var affinity = Affinity(new AffinityOptions { SessionAffinity = true });
        affinity.Remember(Answered(), Request(session: "s1", answeredBy: "a", failed: true));

        Assert.False(affinity.TryApply(Attempt(session: "s1"), Request(session: "s1")));
    }

    private HttpContext Attempt(string? session, params DestinationState[] candidates)
    {
        var context = Destinations.Context();
        var proxy = new TestProxyFeature { AvailableDestinations = candidates.Length == 0 ? _available : candidates };
        context.Features.Set<IReverseProxyFeature>(proxy);
        return context;
    }

    private static HttpContext Answered()
    {
        var context = new DefaultHttpContext();
        context.Response.StatusCode = 200;
        return context;
    }

    private static GatewayRequestContext Request(string? session = null, string? key = null, string? answeredBy = null, bool failed = false)
    {
        var request = new GatewayRequestContext { CallId = "c", StartTimestamp = 0 };
        request.Authenticate(key is null ? CallerIdentity.MasterKey : new CallerIdentity { KeyHash = key });
        request.Route("group", "group", stream: false, clientWantsUsage: false, estimatedInputTokens: 0);
        request.SetSession(session);
        request.Attempt.Begin("group");
        if (answeredBy is not null)
        {
            request.Attempt.Start(Destinations.Deployment(answeredBy), 1);
            request.Attempt.HeadersArrived(2);
        }

        if (failed)
        {
            request.Attempt.Fail(UpstreamFailureKind.InternalServer, GatewayError.Internal());
        }

        request.Outcome.Finish(request.Attempt);
        return request;
    }

    private static IReverseProxyFeature Proxy(HttpContext context) => context.Features.Get<IReverseProxyFeature>()!;

    private sealed class TestProxyFeature : IReverseProxyFeature
    {
        public RouteModel Route => throw new NotSupportedException();

        public ClusterModel Cluster { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public IReadOnlyList<DestinationState> AllDestinations => AvailableDestinations;

        public IReadOnlyList<DestinationState> AvailableDestinations { get; set; } = [];

        public DestinationState? ProxiedDestination { get; set; }
    }
}
