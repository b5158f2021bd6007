using Proxy.Abstractions;

namespace Proxy.LoadBalancing.Tests.TestSupport;

internal sealed class StaticRouterOptions(RouterOptions options) : IRouterOptionsSource
{
    public RouterOptions RouterOptions { get; set; } = options;
}
