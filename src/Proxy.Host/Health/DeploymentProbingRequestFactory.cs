using Proxy.Abstractions;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Proxy.Host.Health;

/// <summary>YARP's active health probes, aimed at each deployment's health URL and carrying its api_key.</summary>
internal sealed class DeploymentProbingRequestFactory : IProbingRequestFactory
{
    public HttpRequestMessage CreateRequest(ClusterModel cluster, DestinationModel destination)
    {
        if (destination.Config.Metadata is DeploymentMetadata { Deployment: var deployment } && DeploymentProbe.UriFor(deployment) is { } uri)
        {
            return DeploymentProbe.CreateRequest(deployment, uri);
        }

        return new HttpRequestMessage(HttpMethod.Get, destination.Config.Health ?? destination.Config.Address);
    }
}
