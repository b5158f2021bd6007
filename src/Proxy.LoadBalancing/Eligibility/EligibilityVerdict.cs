namespace Proxy.LoadBalancing.Eligibility;

/// <summary>What <see cref="DeploymentEligibility.Select"/> found.</summary>
public enum EligibilityVerdict
{
    /// <summary>At least one deployment may serve the attempt.</summary>
    Eligible,

    /// <summary>Every deployment of the group is cooling down (or the group has none).</summary>
    NoneHealthy,

    /// <summary>Healthy deployments exist, but each is over its rpm, tpm or max_parallel_requests right now.</summary>
    OverLimits,

    /// <summary>With pre-call checks on, no healthy deployment's context window holds the prompt.</summary>
    ContextWindowExceeded,
}
