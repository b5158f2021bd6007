using Proxy.Abstractions;
using Proxy.LoadBalancing.Eligibility;
using Proxy.Transforms.Body;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Proxy.Host.Routing;

/// <summary>
/// LiteLLM's tag routing at the request's edges: which tags a request carries (read only with
/// router_settings.enable_tag_filtering) and the error when none of a group's deployments may serve them. The
/// narrowing itself is one more filter of <see cref="DeploymentEligibility"/>.
/// </summary>
internal static class TagRouting
{
    /// <summary>The request's tag query, or null when tag filtering is off (then nothing is read).</summary>
    public static TagQuery? Query(GatewaySnapshot snapshot, GatewayRequestContext request, ReadOnlySpan<byte> body, in RequestScan scan, IHeaderDictionary headers)
    {
        var router = snapshot.Config.RouterSettings;
        if (!router.EnableTagFiltering)
        {
            return null;
        }

        var header = headers.TryGetValue(RequestTags.HeaderName, out var values) ? values.ToString() : null;
        var tags = RequestTags.Collect(body, scan, header, request.Caller.Tags);
        request.SetTags(tags);
        return new TagQuery(tags ?? [], router.TagFilteringMatchAny);
    }

    /// <summary>
    /// No healthy deployment matches and none is tagged default. When a deployment that matches is only cooling down,
    /// that is what the client is told (a 429 to retry later), not that its tags are refused: LiteLLM's bare refusal
    /// there hides the real failure (BerriAI/litellm#15016).
    /// </summary>
    public static GatewayError NotMatched(string group, GatewayRequestContext request, TagQuery? query, IReadOnlyList<DestinationState> all, Func<GatewayError> coolingDown)
    {
        if (query is not null)
        {
            foreach (var destination in all)
            {
                if (destination.Health.Passive == DestinationHealth.Unhealthy && destination.Model.Config.Metadata is DeploymentMetadata { Deployment: var deployment }
                    && query.Matches(deployment))
                {
                    return coolingDown();
                }
            }
        }

        return GatewayError.NoDeploymentsWithTags(group, request.Tags ?? []);
    }
}
