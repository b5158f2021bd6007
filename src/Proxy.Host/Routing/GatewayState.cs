using Proxy.Abstractions;
using Yarp.ReverseProxy.Configuration;

namespace Proxy.Host.Routing;

/// <summary>
/// Holds the snapshot in force and the outcome of the last reload. It is YARP's config provider too, so that one swap
/// changes routing, deployment facts and settings together.
/// </summary>
internal sealed class GatewayState : IProxyConfigProvider, IDeploymentCatalog
{
    private volatile GatewaySnapshot _current;
    private volatile ReloadStatus _lastReload;

    public GatewayState(GatewaySnapshot initial, ReloadStatus status)
    {
        _current = initial;
        _lastReload = status;
    }

    public GatewaySnapshot Current => _current;

    public ReloadStatus LastReload => _lastReload;

    public IProxyConfig GetConfig() => _current;

    public bool TryGet(string destinationId, out Deployment deployment) => _current.TryGetDeployment(destinationId, out deployment);

    public void Publish(GatewaySnapshot next, ReloadStatus status)
    {
        var previous = Interlocked.Exchange(ref _current, next);
        _lastReload = status;
        previous.SignalChanged();
    }

    public void RecordFailedReload(ReloadStatus status) => _lastReload = status;
}
