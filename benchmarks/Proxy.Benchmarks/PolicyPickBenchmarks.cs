using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Proxy.LoadBalancing.Health;
using Proxy.LoadBalancing.Policies;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Proxy.Benchmarks;

/// <summary>
/// One pick per strategy over a model group of N deployments, each with rpm and tpm limits (so the clock and the
/// token estimate are read) and live counters that differ, so that every comparison is taken.
/// </summary>
[MemoryDiagnoser]
public class PolicyPickBenchmarks
{
    private readonly ClusterState _cluster = new("route");
    private DestinationState[] _available = [];
    private HttpContext _context = new DefaultHttpContext();
    private ILoadBalancingPolicy _simpleShuffle = null!;
    private ILoadBalancingPolicy _leastBusy = null!;
    private ILoadBalancingPolicy _usageBased = null!;
    private ILoadBalancingPolicy _usageBasedV2 = null!;
    private ILoadBalancingPolicy _latencyBased = null!;
    private ILoadBalancingPolicy _costBased = null!;

    [Params(2, 10, 100)]
    public int Destinations { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var time = TimeProvider.System;
        var minute = Proxy.Abstractions.DeploymentStats.MinuteOf(time);
        _available = new DestinationState[Destinations];
        for (var i = 0; i < Destinations; i++)
        {
            var deployment = new Deployment
            {
                Id = $"d{i}",
                ModelGroup = "group",
                Provider = "hosted_vllm",
                UpstreamModel = "model",
                Timeout = TimeSpan.FromMinutes(10),
                StreamTimeout = TimeSpan.FromMinutes(10),
                Weight = 1 + (i % 3),
                Rpm = 1_000_000,
                Tpm = 100_000_000,
                InputCostPerToken = 1e-6 * (1 + (i % 5)),
                OutputCostPerToken = 2e-6,
                Stats = new DeploymentStats(),
                EndpointUris = new Uri?[4],
            };
            for (var r = 0; r < i % 7; r++)
            {
                deployment.Stats.RequestStarted(minute);
            }

            deployment.Stats.AddTokens(minute, 1000 * (i % 11));
            deployment.Stats.AddLatency(0.01 * (1 + (i % 13)), time.GetTimestamp());
            _available[i] = new DestinationState(deployment.Id, new DestinationModel(new DestinationConfig
            {
                Address = "http://127.0.0.1:1",
                Metadata = new DeploymentMetadata(deployment, 1),
            }));
        }

        _context = new DefaultHttpContext();
        var request = new GatewayRequestContext { CallId = "bench", StartTimestamp = 0 };
        request.Route("bench", "bench", stream: false, clientWantsUsage: false, estimatedInputTokens: 500);
        _context.Features.Set(request);
        var random = new SystemRandomSource();
        var options = new FixedOptions(new RouterOptions { Strategy = new RoutingStrategyOptions { LowestLatencyBuffer = 0.2 } });
        _simpleShuffle = new SimpleShufflePolicy(random);
        _leastBusy = new LeastBusyPolicy(time);
        _usageBased = new UsageBasedPolicy(time);
        _usageBasedV2 = new UsageBasedV2Policy(time);
        _latencyBased = new LatencyBasedPolicy(options, random, time);
        _costBased = new CostBasedPolicy();
    }

    [Benchmark(Baseline = true)]
    public DestinationState? SimpleShuffle() => _simpleShuffle.PickDestination(_context, _cluster, _available);

    [Benchmark]
    public DestinationState? LeastBusy() => _leastBusy.PickDestination(_context, _cluster, _available);

    [Benchmark]
    public DestinationState? UsageBased() => _usageBased.PickDestination(_context, _cluster, _available);

    [Benchmark]
    public DestinationState? UsageBasedV2() => _usageBasedV2.PickDestination(_context, _cluster, _available);

    [Benchmark]
    public DestinationState? LatencyBased() => _latencyBased.PickDestination(_context, _cluster, _available);

    [Benchmark]
    public DestinationState? CostBased() => _costBased.PickDestination(_context, _cluster, _available);

    private sealed class FixedOptions(RouterOptions options) : IRouterOptionsSource
    {
        public RouterOptions RouterOptions { get; } = options;
    }
}
