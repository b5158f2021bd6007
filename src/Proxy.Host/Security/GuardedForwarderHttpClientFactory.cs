using Yarp.ReverseProxy.Forwarder;

namespace Proxy.Host.Security;

/// <summary>
/// YARP's cluster HTTP clients, with <see cref="UpstreamConnectGuard"/> as the connect step of clusters whose model
/// group has a model stored through the admin API (cluster metadata <see cref="GuardMetadataKey"/>). Clusters built
/// only from the config file connect as YARP does.
/// </summary>
internal sealed class GuardedForwarderHttpClientFactory(UpstreamConnectGuard guard) : ForwarderHttpClientFactory
{
    public const string GuardMetadataKey = "gateway.guard-connect";

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        if (IsGuarded(context.NewMetadata))
        {
            handler.ConnectCallback = guard.ConnectAsync;
        }
    }

    // A cluster that gains or loses a stored model needs a client with (or without) the guard.
    protected override bool CanReuseOldClient(ForwarderHttpClientContext context) =>
        base.CanReuseOldClient(context) && IsGuarded(context.OldMetadata) == IsGuarded(context.NewMetadata);

    private static bool IsGuarded(IReadOnlyDictionary<string, string>? metadata) =>
        metadata is not null && metadata.TryGetValue(GuardMetadataKey, out var value) && value == "true";
}
