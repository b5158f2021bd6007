using System.Net;
using Proxy.Host.Config;

namespace Proxy.Host.Security;

/// <summary>
/// What a model stored through <c>/model/new</c> or <c>/model/update</c> may point at. The admin API is reachable over
/// the network, so a stored model must not turn the gateway into a way to reach hosts only it can reach: its
/// <c>api_base</c> carries no user-info (credentials go in api_key) and, unless
/// <c>general_settings.stored_model_allow_private_api_base</c> is true, names no loopback, private, link-local or
/// metadata address. Host names are judged again on every connection, on the addresses they resolve to then
/// (<see cref="UpstreamConnectGuard"/>), so a name that later resolves inward (DNS rebinding) is refused too.
/// </summary>
internal static class StoredModelRules
{
    // Names of cloud metadata services that resolve to link-local addresses inside the cloud.
    private static readonly string[] MetadataHosts = ["metadata.google.internal", "metadata", "metadata.azure.internal", "instance-data"];

    public static IReadOnlyList<string> Check(IReadOnlyList<DeploymentConfig> stored, GeneralSettings settings)
    {
        var errors = new List<string>();
        foreach (var entry in stored)
        {
            if (entry.LitellmParams.ApiBase is not { } apiBase || !Uri.TryCreate(apiBase, UriKind.Absolute, out var uri))
            {
                continue;
            }

            var path = $"model_list[{entry.Index}].litellm_params.api_base";
            if (uri.UserInfo.Length > 0)
            {
                errors.Add($"{path}: must not carry user-info (user:password@); put the credential in litellm_params.api_key");
                continue;
            }

            if (!settings.StoredModelAllowPrivateApiBase && IsInternalHost(uri))
            {
                errors.Add($"{path}: '{uri.Host}' is a loopback, private, link-local or metadata address, which models stored through the API may not use; "
                    + "add the model to the config file, or set general_settings.stored_model_allow_private_api_base: true");
            }
        }

        return errors;
    }

    private static bool IsInternalHost(Uri uri)
    {
        if (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 && IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var address))
        {
            return InternalAddress.IsInternal(address);
        }

        var host = uri.IdnHost.TrimEnd('.');
        foreach (var name in MetadataHosts)
        {
            if (host.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
