using Proxy.Host.Config;
using Yarp.ReverseProxy.Configuration;

namespace Proxy.Host.Routing;

/// <summary>
/// YARP routes for <c>general_settings.pass_through_endpoints</c>. They point at the unrouted cluster like the model
/// routes, but carry their entry's index, so the pass-through middleware forwards them itself and the model pipeline
/// never sees them. <c>auth: false</c> (LiteLLM's default) marks the route anonymous, which the auth middleware honours.
/// </summary>
internal static class PassThroughRoutes
{
    public const string MetadataKey = "gateway.passthrough";

    private const string RouteIdPrefix = "passthrough#";

    public static IEnumerable<RouteConfig> Build(IReadOnlyList<PassThroughEndpointConfig> endpoints)
    {
        foreach (var endpoint in endpoints)
        {
            yield return Route(endpoint, endpoint.Path, "");
            if (endpoint.IncludeSubpath)
            {
                yield return Route(endpoint, endpoint.Path.TrimEnd('/') + "/{**subpath}", "/sub");
            }
        }
    }

    /// <summary>The entry a matched route stands for, or null for any other route.</summary>
    public static PassThroughEndpointConfig? Find(IReadOnlyList<PassThroughEndpointConfig> endpoints, RouteConfig route)
    {
        if (route.Metadata is null || !route.Metadata.TryGetValue(MetadataKey, out var index)
            || !int.TryParse(index, System.Globalization.CultureInfo.InvariantCulture, out var i) || i < 0 || i >= endpoints.Count)
        {
            return null;
        }

        return endpoints[i];
    }

    private static RouteConfig Route(PassThroughEndpointConfig endpoint, string pattern, string suffix) => new()
    {
        RouteId = RouteIdPrefix + endpoint.Index.ToString(System.Globalization.CultureInfo.InvariantCulture) + suffix,
        ClusterId = SnapshotBuilder.UnroutedClusterId,
        // Before the model routes: an operator's pass-through on /v1/rerank (LiteLLM's own example) replaces ours.
        Order = -1,
        Match = new RouteMatch { Path = pattern, Methods = endpoint.Methods },
        AuthorizationPolicy = endpoint.Auth ? null : "anonymous",
        Metadata = new Dictionary<string, string> { [MetadataKey] = endpoint.Index.ToString(System.Globalization.CultureInfo.InvariantCulture) },
    };
}
