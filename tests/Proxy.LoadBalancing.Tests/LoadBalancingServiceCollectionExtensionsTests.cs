using Microsoft.Extensions.DependencyInjection;
using Proxy.Abstractions;
using Proxy.LoadBalancing.Health;
using Proxy.LoadBalancing.Policies;
using Proxy.LoadBalancing.Tests.TestSupport;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace Proxy.LoadBalancing.Tests;

public class LoadBalancingServiceCollectionExtensionsTests
{
    [Fact]
    public void AddGatewayLoadBalancing_RegistersEveryStrategyAndTheCooldownOnce()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IRouterOptionsSource>(new StaticRouterOptions(RouterOptions.Default));
        services.AddReverseProxy().AddGatewayLoadBalancing().AddGatewayLoadBalancing();
        using var provider = services.BuildServiceProvider();

        var names = new List<string>();
        foreach (var policy in provider.GetServices<ILoadBalancingPolicy>())
        {
            names.Add(policy.Name);
        }

        string[] strategies =
        [
            PolicyNames.SimpleShuffle, PolicyNames.LeastBusy, PolicyNames.UsageBased,
            PolicyNames.UsageBasedV2, PolicyNames.LatencyBased, PolicyNames.CostBased,
        ];
        foreach (var expected in strategies)
        {
            Assert.Single(names, expected);
        }

        // Resolving the cooldown policy would start YARP's config machinery; its registration is what matters here.
        var cooldown = 0;
        foreach (var descriptor in services)
        {
            cooldown += descriptor.ServiceType == typeof(IPassiveHealthCheckPolicy) && descriptor.ImplementationType == typeof(CooldownPolicy) ? 1 : 0;
        }

        Assert.Equal(1, cooldown);
        Assert.IsType<SystemRandomSource>(provider.GetRequiredService<IRandomSource>());
        Assert.Same(TimeProvider.System, provider.GetRequiredService<TimeProvider>());
    }

    [Fact]
    public void SystemRandomSource_StaysInTheUnitInterval()
    {
        var random = new SystemRandomSource();
        for (var i = 0; i < 1000; i++)
        {
            Assert.InRange(random.NextDouble(), 0.0, 0.9999999999999999);
        }
    }
}
