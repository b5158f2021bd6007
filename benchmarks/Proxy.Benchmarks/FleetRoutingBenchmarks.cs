using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Proxy.LoadBalancing.Fleet;
using Proxy.LoadBalancing.Policies;
using Proxy.Transforms.Body;
using Proxy.Transforms.Routing;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace Proxy.Benchmarks;

/// <summary>
/// The prefix-cache-aware routing decision: hashing a chat prompt into its block chain, and picking among 16
/// deployments whose indexes hold parts of it (one holds the conversation's previous turn, others the system prompt).
/// The target (issue #16): hashing + scoring ≤ 5 µs for 16 deployments and a 32k-token prompt, allocation-free.
/// </summary>
[MemoryDiagnoser]
public class FleetRoutingBenchmarks
{
    private readonly ClusterState _cluster = new("fleet");
    private DestinationState[] _available = [];
    private HttpContext _context = new DefaultHttpContext();
    private PrefixCacheAwarePolicy _policy = null!;
    private byte[] _body = [];
    private RequestScan _scan;
    private ulong[] _hashes = [];
    private PromptBlocks _blocks = null!;

    /// <summary>Prompt size in tokens (≈ 4 bytes each of chat JSON).</summary>
    [Params(1_000, 32_000)]
    public int PromptTokens { get; set; }

    [Params(16)]
    public int Deployments { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _body = ChatBody(PromptTokens);
        RequestScanner.Scan(_body, out _scan);
        _hashes = new ulong[PromptBlockHasher.CountBlocks(_scan, out var bytes)];
        var count = PromptBlockHasher.Hash(_body, _scan, _hashes, out var conversationBlock);
        var states = new PrefixCacheStates();
        _policy = new PrefixCacheAwarePolicy(states, TimeProvider.System);
        _available = new DestinationState[Deployments];
        for (var i = 0; i < Deployments; i++)
        {
            var deployment = new Deployment
            {
                Id = $"vllm-{i}",
                ModelGroup = "fleet",
                Provider = "hosted_vllm",
                UpstreamModel = "model",
                Timeout = TimeSpan.FromMinutes(10),
                StreamTimeout = TimeSpan.FromMinutes(10),
                Stats = new DeploymentStats(),
                EndpointUris = new Uri?[4],
            };
            for (var r = 0; r < i % 3; r++)
            {
                deployment.Stats.RequestStarted(0);
            }

            // Deployment 5 holds all but the last turn; the others the system prompt, or nothing.
            var state = states.For(deployment);
            state.Index.Use(i == 5 ? _hashes.AsSpan(0, count - 8) : i % 2 == 0 ? _hashes.AsSpan(0, Math.Min(count, 40)) : []);
            _available[i] = new DestinationState(deployment.Id, new DestinationModel(new DestinationConfig { Address = "http://127.0.0.1:1", Metadata = new DeploymentMetadata(deployment, 1) }));
        }

        var pooled = ArrayPool<ulong>.Shared.Rent(count);
        _hashes.AsSpan(0, count).CopyTo(pooled);
        _blocks = new PromptBlocks(pooled, count, bytes, conversationBlock);
        _context = new DefaultHttpContext();
        _context.Features.Set(new GatewayRequestContext { CallId = "bench", StartTimestamp = 0 });
        _context.Features.Set(_blocks);
        _context.Response.Headers[PrefixCacheAwarePolicy.DecisionHeader] = "warm";
    }

    /// <summary>The block chain of the body (the scan has already located the prompt, as the routing middleware's has).</summary>
    [Benchmark]
    public int Hash() => PromptBlockHasher.Hash(_body, _scan, _hashes, out _);

    /// <summary>Scoring and picking, including recording the prompt in the picked deployment's index.</summary>
    [Benchmark]
    public DestinationState? Pick()
    {
        _blocks.Picked = null;
        return _policy.PickDestination(_context, _cluster, _available);
    }

    [Benchmark]
    public DestinationState? HashAndPick()
    {
        PromptBlockHasher.Hash(_body, _scan, _hashes, out _);
        _blocks.Picked = null;
        return _policy.PickDestination(_context, _cluster, _available);
    }

    /// <summary>The scanner's pass over the same body, which every request pays whatever the strategy: the scale to compare with.</summary>
    [Benchmark]
    public ScanStatus Scan() => RequestScanner.Scan(_body, out _);

    private static byte[] ChatBody(int tokens)
    {
        var text = new StringBuilder("{\"model\":\"fleet\",\"messages\":[{\"role\":\"system\",\"content\":\"");
        text.Append(Words(2000)).Append("\"}");
        var turn = 0;
        while (text.Length < tokens * 4)
        {
            text.Append(",{\"role\":\"").Append(turn % 2 == 0 ? "user" : "assistant").Append("\",\"content\":\"").Append(Words(600)).Append(turn).Append("\"}");
            turn++;
        }

        text.Append("],\"stream\":true}");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static string Words(int chars)
    {
        string[] words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"];
        var text = new StringBuilder(chars + 10);
        for (var i = 0; text.Length < chars; i++)
        {
            text.Append(words[(i * 7) % words.Length]).Append(' ');
        }

        return text.ToString();
    }
}
