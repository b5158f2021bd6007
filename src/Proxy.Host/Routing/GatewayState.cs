using Proxy.Abstractions;
using Yarp.ReverseProxy.Configuration;

namespace Proxy.Host.Routing;

/// <summary>
/// Holds the snapshot in force and the outcome of the last reload. It is YARP's config provider too, so that one swap
/// changes routing, deployment facts and settings together: a new snapshot is first handed to YARP, and requests
/// switch to it only once YARP reports its clusters applied, so that no request sees a model group without a cluster.
/// </summary>
internal sealed class GatewayState : IProxyConfigProvider, IConfigChangeListener, IRouterOptionsSource
{
    private volatile GatewaySnapshot _current;
    private volatile GatewaySnapshot _offered;
    private volatile ReloadStatus _lastReload;
    private ReloadStatus? _pendingStatus;

    public GatewayState(GatewaySnapshot initial, ReloadStatus status)
    {
        _current = initial;
        _offered = initial;
        _lastReload = status;
    }

    /// <summary>The snapshot requests use.</summary>
    public GatewaySnapshot Current => _current;

    public ReloadStatus LastReload => _lastReload;

    public RouterOptions RouterOptions => _current.Router;

    public IProxyConfig GetConfig() => _offered;

    public void Publish(GatewaySnapshot next, ReloadStatus status)
    {
        Volatile.Write(ref _pendingStatus, status);
        var previous = Interlocked.Exchange(ref _offered, next);
        previous.SignalChanged();
    }

    public void RecordFailedReload(ReloadStatus status) => _lastReload = status;

    public void ConfigurationApplied(IReadOnlyList<IProxyConfig> proxyConfigs)
    {
        foreach (var config in proxyConfigs)
        {
            if (config is GatewaySnapshot snapshot && ReferenceEquals(snapshot, _offered) && !ReferenceEquals(snapshot, _current))
            {
                _current = snapshot;
                if (Interlocked.Exchange(ref _pendingStatus, null) is { } status)
                {
                    _lastReload = status;
                }
            }
        }
    }

    public void ConfigurationApplyingFailed(IReadOnlyList<IProxyConfig> proxyConfigs, Exception exception)
    {
        if (Interlocked.Exchange(ref _pendingStatus, null) is { } status)
        {
            // YARP rejected what the validator let through; the previous snapshot keeps serving.
            _lastReload = status with { Succeeded = false, ConfigVersion = _current.Version, Errors = [exception.Message] };
        }
    }

    public void ConfigurationLoaded(IReadOnlyList<IProxyConfig> proxyConfigs)
    {
    }

    public void ConfigurationLoadingFailed(IProxyConfigProvider configProvider, Exception exception)
    {
    }
}
