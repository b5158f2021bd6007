using Proxy.Abstractions;
using Proxy.LoadBalancing.Policies;
using Yarp.ReverseProxy.LoadBalancing;

namespace Proxy.LoadBalancing.Tests.TestSupport;

internal static class PolicyFactory
{
    public static TheoryData<string> Names => new()
    {
        PolicyNames.SimpleShuffle,
        PolicyNames.LeastBusy,
        PolicyNames.UsageBased,
        PolicyNames.UsageBasedV2,
        PolicyNames.LatencyBased,
        PolicyNames.CostBased,
    };

    public static ILoadBalancingPolicy Create(string name, TimeProvider time, IRandomSource? random = null, RouterOptions? options = null)
    {
        random ??= new SeededRandomSource(42);
        var source = new StaticRouterOptions(options ?? RouterOptions.Default);
        ILoadBalancingPolicy policy = name switch
        {
            PolicyNames.SimpleShuffle => new SimpleShufflePolicy(random),
            PolicyNames.LeastBusy => new LeastBusyPolicy(time),
            PolicyNames.UsageBased => new UsageBasedPolicy(time),
            PolicyNames.UsageBasedV2 => new UsageBasedV2Policy(time),
            PolicyNames.LatencyBased => new LatencyBasedPolicy(source, random, time),
            PolicyNames.CostBased => new CostBasedPolicy(),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown policy"),
        };
        Assert.Equal(name, policy.Name);
        return policy;
    }
}
