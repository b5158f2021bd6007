using System.Globalization;
using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Proxy.LoadBalancing.Fleet;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Policies;

/// <summary>
/// Fleet routing for vLLM (a gateway extension): send a request where its prompt's prefix is already cached, without
/// overloading anyone. Each candidate is scored by the leading blocks of the prompt its <see cref="PrefixIndex"/> holds;
/// no candidate may take more than <see cref="LoadFactor"/> × the mean load (bounded load); a prompt no one holds goes to
/// its rendezvous home, so every gateway replica sends a new conversation to the same deployment.
/// </summary>
/// <remarks>
/// Retries call the policy again without the failed deployment, so the runner-up holder comes next; the failed attempt's
/// blocks are taken back out of that deployment's index first. Allocation-free: per-candidate scratch lives on the stack.
/// </remarks>
internal sealed class PrefixCacheAwarePolicy(PrefixCacheStates states, TimeProvider time) : ILoadBalancingPolicy
{
    public const string DecisionHeader = "x-litellm-routing-decision";

    /// <summary>Bounded load (consistent hashing with bounded loads): at most 1.25 × the mean, as KubeAI and SGLang's prefix_hash.</summary>
    public const double LoadFactor = 1.25;

    /// <summary>A match shorter than this (≈ 64 tokens), or than an eighth of the prompt, saves too little to steer by.</summary>
    public const int MinUsefulBlocks = 4;

    /// <summary>
    /// Without a useful match the home is the rendezvous winner for the chain hash at this block (≈ the first 256 bytes of
    /// the prompt): past a short shared preamble, so that different documents get different homes, yet early enough that
    /// every request about one document agrees on its home.
    /// </summary>
    public const int HomeKeyBlock = 4;

    // "prefix-hit N blocks" for every N up to 8192 blocks (a 128k-token prompt), built once each.
    /// <summary>
    /// A system prompt up to this many blocks (4 KB, ≈ 1k tokens) is replicated: conversations after it spread by their own
    /// content. A longer one is treated as a document that its users should find on one deployment.
    /// </summary>
    public const int MaxSpreadSystemBlocks = 64;

    private readonly string?[] _hitTexts = new string?[8192];

    public string Name => PolicyNames.PrefixCacheAware;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> available)
    {
        var count = available.Count;
        if (count <= 1)
        {
            return count == 0 ? null : available[0];
        }

        using var indices = new ScratchBuffer<int>(stackalloc int[DeploymentFilter.StackLength(count)], count);
        var visitor = new Candidates(indices.Span);
        var anyDeployment = DeploymentFilter.Visit(available, ref visitor);
        var candidates = indices.Span[..visitor.Count];
        if (candidates.Length <= 1)
        {
            return DeploymentFilter.Result(available, candidates.Length == 0 ? -1 : candidates[0], anyDeployment);
        }

        var blocks = context.Features.Get<PromptBlocks>();
        return blocks is { Count: > 0 }
            ? available[Score(context, available, candidates, blocks)]
            : available[LeastLoaded(available, candidates, time.GetTimestamp())];
    }

    private int Score(HttpContext context, IReadOnlyList<DestinationState> available, ReadOnlySpan<int> candidates, PromptBlocks blocks)
    {
        // A retry: the previous attempt failed before its engine computed anything, so its blocks are not there.
        Undo(states, blocks);
        var hashes = blocks.Hashes;
        var n = hashes.Length;
        var m = candidates.Length;
        var now = time.GetTimestamp();
        using var matchedBuffer = new ScratchBuffer<int>(stackalloc int[DeploymentFilter.StackLength(m)], m);
        using var loadBuffer = new ScratchBuffer<int>(stackalloc int[DeploymentFilter.StackLength(m)], m);
        using var idBuffer = new ScratchBuffer<ulong>(stackalloc ulong[DeploymentFilter.StackLength(m)], m);
        var matched = matchedBuffer.Span;
        var loads = loadBuffer.Span;
        var ids = idBuffer.Span;
        var total = 0L;
        var best = 0;
        for (var i = 0; i < m; i++)
        {
            var deployment = DeploymentFilter.DeploymentAt(available, candidates[i]);
            var state = states.For(deployment);
            // A restart the scraper saw (vLLM's process start time changed): that cache is gone.
            state.NoteRestarts(deployment.Stats.Engine.Restarts);
            ids[i] = state.IdHash;
            matched[i] = state.Index.Match(hashes);
            loads[i] = FleetLoad.Of(deployment.Stats, now);
            total += loads[i];
            best = Math.Max(best, matched[i]);
        }

        var cap = (int)Math.Ceiling(LoadFactor * (total + 1) / m);
        // The request's home order: rendezvous over the candidates, keyed by the request alone, so every replica agrees.
        // Past a short system prompt the key is the conversation's own first block: conversations that share the system
        // prompt spread (it is cheap to hold everywhere) and each keeps its place turn after turn. Otherwise (no system
        // prompt, or a long one: a document) it is the prompt's first 256 bytes, so that requests about one document,
        // whatever the question after it, meet on one deployment.
        var shared = blocks.ConversationBlock;
        var spread = shared > 0 && shared <= MaxSpreadSystemBlocks;
        var key = spread ? hashes[Math.Min(Math.Max(HomeKeyBlock, shared), n - 1)] : hashes[Math.Min(HomeKeyBlock, n - 1)];
        var first = Highest(ids, key, matched, loads, int.MaxValue, int.MinValue);
        var choice = loads[first] < cap ? first : Highest(ids, key, matched, loads, cap, int.MinValue);
        if (!Useful(matched[choice], n) && Useful(best, n) && (!spread || best >= shared))
        {
            // The home holds nothing worth having but another deployment holds more than the shared system prompt (a
            // document first placed elsewhere, the conversation itself after a spill, the runner-up on a retry): the
            // longest holder within the bound, in the same order. Only then, because one replica's view of where a
            // conversation went can be stale, while its home is where every replica sends it; a conversation that
            // spilled for a turn thus comes back home, at the cost of that one turn.
            var holder = LongestWithinBound(ids, key, matched, loads, cap);
            if (Useful(matched[holder], n))
            {
                choice = holder;
            }
        }

        var decision = Useful(matched[choice], n) ? RoutingDecision.PrefixHit : choice == first ? RoutingDecision.Home : RoutingDecision.Spill;
        var picked = DeploymentFilter.DeploymentAt(available, candidates[choice]);
        // The engine will hold the whole prompt once it has prefilled it; concurrent requests for it should follow now.
        states.For(picked).Index.Use(hashes, matched[choice]);
        blocks.Picked = picked;
        blocks.PredictedBlocks = matched[choice];
        blocks.InsertedFrom = matched[choice];
        Record(context, decision, matched[choice]);
        return candidates[choice];
    }

    /// <summary>A match worth steering by: at least <see cref="MinUsefulBlocks"/> (the whole prompt when shorter) and an eighth of the prompt.</summary>
    private static bool Useful(int matched, int blocks) => matched >= Math.Min(MinUsefulBlocks, blocks) && matched * 8L >= blocks && matched > 0;

    /// <summary>Blocks a holder may lack of the longest match and still count as holding it (the last turn or two).</summary>
    private static int Slack(int best) => Math.Max(MinUsefulBlocks, best / 8);

    /// <summary>The candidate with the highest rendezvous weight among those under <paramref name="cap"/> holding at least <paramref name="minMatched"/> blocks; -1 if none.</summary>
    private static int Highest(ReadOnlySpan<ulong> ids, ulong key, ReadOnlySpan<int> matched, ReadOnlySpan<int> loads, int cap, int minMatched)
    {
        var best = -1;
        var bestWeight = 0UL;
        for (var i = 0; i < ids.Length; i++)
        {
            if (loads[i] >= cap || matched[i] < minMatched)
            {
                continue;
            }

            var weight = Rendezvous.Weight(key, ids[i]);
            if (best < 0 || weight > bestWeight)
            {
                best = i;
                bestWeight = weight;
            }
        }

        return best;
    }

    private static int LongestWithinBound(ReadOnlySpan<ulong> ids, ulong key, ReadOnlySpan<int> matched, ReadOnlySpan<int> loads, int cap)
    {
        var longest = -1;
        for (var i = 0; i < ids.Length; i++)
        {
            if (loads[i] < cap)
            {
                longest = Math.Max(longest, matched[i]);
            }
        }

        // The least loaded candidate is always under the bound, so some candidate qualifies.
        var choice = Highest(ids, key, matched, loads, cap, longest - Slack(longest));
        return choice < 0 ? 0 : choice;
    }

    private static int LeastLoaded(IReadOnlyList<DestinationState> available, ReadOnlySpan<int> candidates, long now)
    {
        var best = 0;
        var fewest = int.MaxValue;
        for (var i = 0; i < candidates.Length; i++)
        {
            var load = FleetLoad.Of(DeploymentFilter.DeploymentAt(available, candidates[i]).Stats, now);
            if (load < fewest)
            {
                best = i;
                fewest = load;
            }
        }

        return candidates[best];
    }

    /// <summary>Takes back what the last pick added to its deployment's index (that attempt never reached the engine).</summary>
    internal static void Undo(PrefixCacheStates states, PromptBlocks blocks)
    {
        if (blocks.Picked is not { } previous)
        {
            return;
        }

        if (blocks.InsertedFrom < blocks.Count)
        {
            states.For(previous).Index.Remove(blocks.Hashes[blocks.InsertedFrom..]);
        }

        blocks.Picked = null;
    }

    private void Record(HttpContext context, RoutingDecision decision, int matchedBlocks)
    {
        var text = decision switch
        {
            RoutingDecision.PrefixHit => HitText(matchedBlocks),
            RoutingDecision.Home => "home",
            _ => "spill",
        };
        context.Response.Headers[DecisionHeader] = text;
        if (context.Features.Get<GatewayRequestContext>() is { } request)
        {
            request.Outcome.RoutingDecision = text;
        }
    }

    private string HitText(int blocks)
    {
        if ((uint)blocks >= (uint)_hitTexts.Length)
        {
            return Format(blocks);
        }

        // Filled on first use; a race only builds the same string twice.
        return _hitTexts[blocks] ??= Format(blocks);
    }

    private static string Format(int blocks) => string.Create(CultureInfo.InvariantCulture, $"prefix-hit {blocks} blocks");

    /// <summary>Collects the candidates the deployment filter lets through.</summary>
    private ref struct Candidates(Span<int> indices) : ICandidateVisitor
    {
        private readonly Span<int> _indices = indices;

        public int Count { get; private set; }

        public void Visit(int index, Deployment deployment) => _indices[Count++] = index;
    }
}
