using Proxy.Abstractions;

namespace Proxy.Host.Auth;

/// <summary>
/// The routes that manage the gateway (keys, tenants, spend, stored models, the cache, deployment health). Without a master key
/// the gateway has no admin, so these answer 403 rather than letting anyone who can reach the port mint keys, read
/// spend or store models; model routes stay open, as LiteLLM leaves them.
/// </summary>
internal static class AdminRoutes
{
    private static readonly string[] Prefixes =
        ["/key/", "/spend/", "/global/", "/cache/", "/user/", "/team/", "/customer/", "/end_user/", "/budget/", "/organization/"];

    private static readonly string[] Exact = ["/model/new", "/model/update", "/model/delete", "/health"];

    public static bool Contains(PathString path)
    {
        var value = path.Value;
        if (value is null)
        {
            return false;
        }

        foreach (var prefix in Prefixes)
        {
            if (value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        foreach (var route in Exact)
        {
            if (value.Equals(route, StringComparison.OrdinalIgnoreCase) || value.Equals(route + "/", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public static GatewayError NoMasterKey() => new(403, "auth_error",
        "This gateway has no master key, so its admin routes are off. Set general_settings.master_key (or LITELLM_MASTER_KEY) to manage keys, spend, models and the cache.");
}
