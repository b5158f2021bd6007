using System.Collections.Frozen;
using Microsoft.Extensions.Primitives;
using Proxy.Abstractions;
using Proxy.Host.Auth;
using Proxy.Host.Config;
using Yarp.ReverseProxy.Configuration;

namespace Proxy.Host.Routing;

/// <summary>
/// One immutable version of the gateway's configuration: the parsed file, the model groups, and the YARP routes and
/// clusters built from them. A reload builds a new snapshot and swaps it in; requests in flight keep the one they
/// started with.
/// </summary>
internal sealed class GatewaySnapshot : IProxyConfig
{
    private readonly CancellationTokenSource _changed = new();

    public GatewaySnapshot()
    {
        ChangeToken = new CancellationChangeToken(_changed.Token);
    }

    public required int Version { get; init; }

    public required DateTimeOffset LoadedAt { get; init; }

    public required GatewayConfig Config { get; init; }

    public required FrozenDictionary<string, ModelGroup> Groups { get; init; }

    public required FrozenDictionary<string, DeploymentRoute> Deployments { get; init; }

    /// <summary>The body of GET /v1/models, serialised once per version.</summary>
    public required byte[] ModelsListJson { get; init; }

    /// <summary>Group names as shown in "unknown model" errors.</summary>
    public required string AvailableGroupsText { get; init; }

    public required IReadOnlyList<string> VisibleGroupNames { get; init; }

    public required MasterKey MasterKey { get; init; }

    public required RouterOptions Router { get; init; }

    public required long MaxRequestBodyBytes { get; init; }

    public required IReadOnlyList<RouteConfig> Routes { get; init; }

    public required IReadOnlyList<ClusterConfig> Clusters { get; init; }

    /// <summary>host:port of every upstream the config file names (the operator's own): trusted by the connect guard.</summary>
    public FrozenSet<string> ConfigFileUpstreams { get; init; } = FrozenSet<string>.Empty;

    public IChangeToken ChangeToken { get; }

    /// <summary>Tells YARP to read the new snapshot; requests in flight are not affected.</summary>
    public void SignalChanged() => _changed.Cancel();
}
