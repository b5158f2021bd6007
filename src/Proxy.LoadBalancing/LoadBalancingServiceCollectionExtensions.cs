using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Proxy.Abstractions;
using Proxy.LoadBalancing.Affinity;
using Proxy.LoadBalancing.Fleet;
using Proxy.LoadBalancing.Health;
using Proxy.LoadBalancing.Policies;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace Proxy.LoadBalancing;

/// <summary>Registers LiteLLM's routing strategies and cooldown with YARP. The host registers <see cref="IRouterOptionsSource"/>.</summary>
public static class LoadBalancingServiceCollectionExtensions
{
    public static IReverseProxyBuilder AddGatewayLoadBalancing(this IReverseProxyBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IRandomSource, SystemRandomSource>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancingPolicy, SimpleShufflePolicy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancingPolicy, LeastBusyPolicy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancingPolicy, UsageBasedPolicy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancingPolicy, UsageBasedV2Policy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancingPolicy, LatencyBasedPolicy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancingPolicy, CostBasedPolicy>());
        services.TryAddSingleton<PrefixCacheStates>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancingPolicy, PrefixCacheAwarePolicy>());
        // Completion observers run in registration order; these two only learn, so they go before any that report.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRequestCompletionObserver, PrefixCacheFeedback>());
        services.TryAddSingleton<SessionAffinity>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRequestCompletionObserver, SessionAffinityRecorder>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPassiveHealthCheckPolicy, CooldownPolicy>());
        return builder;
    }
}
