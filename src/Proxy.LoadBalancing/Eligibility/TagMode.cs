namespace Proxy.LoadBalancing.Eligibility;

/// <summary>Which deployments a request's tags admit (see <see cref="TagQuery"/>).</summary>
public enum TagMode
{
    /// <summary>Tag filtering does not narrow the group.</summary>
    All,

    /// <summary>Only deployments whose tags match the request's.</summary>
    Matching,

    /// <summary>Only deployments tagged "default" (no match, or an untagged request).</summary>
    DefaultTagged,

    /// <summary>Nothing matches and nothing is tagged "default": LiteLLM refuses the request.</summary>
    None,
}
