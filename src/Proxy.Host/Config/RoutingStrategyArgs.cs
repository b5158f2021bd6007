namespace Proxy.Host.Config;

/// <summary><c>router_settings.routing_strategy_args</c>.</summary>
internal sealed record RoutingStrategyArgs
{
    public double? Ttl { get; init; }

    public double? LowestLatencyBuffer { get; init; }

    public int? MaxLatencyListSize { get; init; }
}
