using Proxy.Abstractions;
using Yarp.ReverseProxy.Forwarder;

namespace Proxy.Host.Routing;

/// <summary>A deployment plus the forwarder settings built for it once per config version.</summary>
internal sealed class DeploymentRoute
{
    public required Deployment Deployment { get; init; }

    public required ForwarderRequestConfig RequestConfig { get; init; }

    public required ForwarderRequestConfig StreamRequestConfig { get; init; }
}
