using System.Net;
using System.Net.Sockets;
using Proxy.Host.Routing;

namespace Proxy.Host.Security;

/// <summary>
/// The connect step of the HTTP clients that can reach models stored through the admin API (their model groups'
/// clusters, and the /health probes). A host the config file names is connected as usual; any other host is resolved
/// here and connected only to an address that is not internal (<see cref="InternalAddress"/>), so a stored model
/// cannot reach the host's network even if its name resolves there later than when it was stored (DNS rebinding).
/// Off when <c>general_settings.stored_model_allow_private_api_base</c> is true.
/// </summary>
internal sealed class UpstreamConnectGuard(GatewayState state)
{
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var snapshot = state.Current;
        if (snapshot.Config.GeneralSettings.StoredModelAllowPrivateApiBase || snapshot.ConfigFileUpstreams.Contains(Authority(endpoint.Host, endpoint.Port)))
        {
            return await ConnectAsync(endpoint, cancellationToken);
        }

        var addresses = IPAddress.TryParse(endpoint.Host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);
        var allowed = Array.FindAll(addresses, a => !InternalAddress.IsInternal(a));
        if (allowed.Length == 0)
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError,
                $"refused to connect to {endpoint.Host}: it resolves only to loopback, private, link-local or metadata addresses, which models stored through the API may not reach (general_settings.stored_model_allow_private_api_base)");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endpoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>How <see cref="GatewaySnapshot.ConfigFileUpstreams"/> spells an upstream: lower-case host (IPv6 without brackets, as the connect step sees it) and port.</summary>
    public static string Authority(string host, int port) =>
        string.Concat(host.Trim('[', ']').ToLowerInvariant(), ":", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
