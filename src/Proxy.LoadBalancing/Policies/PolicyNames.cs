namespace Proxy.LoadBalancing.Policies;

/// <summary>Policy names in LiteLLM's spelling (router_settings.routing_strategy), plus the cooldown health policy.</summary>
public static class PolicyNames
{
    public const string SimpleShuffle = "simple-shuffle";
    public const string LeastBusy = "least-busy";
    public const string UsageBased = "usage-based-routing";
    public const string UsageBasedV2 = "usage-based-routing-v2";
    public const string LatencyBased = "latency-based-routing";
    public const string CostBased = "cost-based-routing";

    /// <summary>Not a LiteLLM strategy: fleet routing by predicted prefix-cache hits and load, for vLLM fleets.</summary>
    public const string PrefixCacheAware = "prefix-cache-aware";

    /// <summary>The passive health policy that implements LiteLLM's cooldown.</summary>
    public const string Cooldown = "litellm-cooldown";
}
