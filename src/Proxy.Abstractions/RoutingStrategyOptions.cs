namespace Proxy.Abstractions;

/// <summary>router_settings.routing_strategy_args, resolved with LiteLLM's defaults.</summary>
public sealed record RoutingStrategyOptions
{
    public static RoutingStrategyOptions Default { get; } = new();

    /// <summary>How long a latency sample counts (latency-based-routing `ttl`, default 1 h).</summary>
    public TimeSpan LatencyTtl { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Pick at random among deployments within (1 + buffer) × the lowest latency (`lowest_latency_buffer`, default 0).</summary>
    public double LowestLatencyBuffer { get; init; }
}
