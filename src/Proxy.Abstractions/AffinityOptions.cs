namespace Proxy.Abstractions;

/// <summary>
/// LiteLLM's deployment affinity (router_settings.optional_pre_call_checks: session_affinity, deployment_affinity),
/// resolved: which checks apply to a model group, and how long an idle pin lasts.
/// </summary>
public sealed record AffinityOptions
{
    public static AffinityOptions Default { get; } = new();

    /// <summary>session_affinity: requests with the same session id go to the deployment the session first used.</summary>
    public bool SessionAffinity { get; init; }

    /// <summary>deployment_affinity: requests with the same virtual key go to the deployment the key first used.</summary>
    public bool DeploymentAffinity { get; init; }

    /// <summary>deployment_affinity_ttl_seconds (LiteLLM default 3600): a pin idle this long is forgotten.</summary>
    public TimeSpan Ttl { get; init; } = TimeSpan.FromSeconds(3600);

    /// <summary>model_group_affinity_config: a group listed here uses its own checks instead of the global ones.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> PerGroup { get; init; } = new Dictionary<string, IReadOnlyList<string>>();
}
