using Proxy.Abstractions;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Eligibility;

/// <summary>
/// LiteLLM's tag routing (router_settings.enable_tag_filtering) for one request: a request with tags is served by the
/// deployments whose litellm_params.tags match them (any of them with tag_filtering_match_any, LiteLLM's default; all
/// of them otherwise), else by the deployments tagged "default", else refused; a request without tags is served by
/// the "default" deployments when there are any, else by all. Untagged deployments never match a tagged request.
/// </summary>
public sealed class TagQuery(IReadOnlyList<string> requestTags, bool matchAny)
{
    public const string DefaultTag = "default";

    public IReadOnlyList<string> RequestTags { get; } = requestTags;

    public bool MatchAny { get; } = matchAny;

    /// <summary>Which deployments of <paramref name="available"/> the tags admit.</summary>
    public TagMode ModeFor(IReadOnlyList<DestinationState> available)
    {
        var anyDefault = false;
        for (var i = 0; i < available.Count; i++)
        {
            if (available[i].Model.Config.Metadata is not DeploymentMetadata { Deployment: var deployment })
            {
                continue;
            }

            if (RequestTags.Count > 0 && Matches(deployment))
            {
                return TagMode.Matching;
            }

            anyDefault |= HasTag(deployment.Tags, DefaultTag);
        }

        if (anyDefault)
        {
            return TagMode.DefaultTagged;
        }

        return RequestTags.Count > 0 ? TagMode.None : TagMode.All;
    }

    /// <summary>The deployment may serve the request under <paramref name="mode"/>.</summary>
    public bool Admits(Deployment deployment, TagMode mode) => mode switch
    {
        TagMode.All => true,
        TagMode.Matching => Matches(deployment),
        TagMode.DefaultTagged => HasTag(deployment.Tags, DefaultTag),
        _ => false,
    };

    /// <summary>LiteLLM's is_valid_deployment_tag: any shared tag, or (match all) every request tag on the deployment.</summary>
    public bool Matches(Deployment deployment)
    {
        var tags = deployment.Tags;
        if (tags.Count == 0 || RequestTags.Count == 0)
        {
            return false;
        }

        for (var i = 0; i < RequestTags.Count; i++)
        {
            var has = HasTag(tags, RequestTags[i]);
            if (MatchAny && has)
            {
                return true;
            }

            if (!MatchAny && !has)
            {
                return false;
            }
        }

        return !MatchAny;
    }

    private static bool HasTag(IReadOnlyList<string> tags, string tag)
    {
        for (var i = 0; i < tags.Count; i++)
        {
            if (string.Equals(tags[i], tag, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
