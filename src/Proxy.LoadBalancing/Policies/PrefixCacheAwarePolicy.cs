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
    private readonly string?[] _hitTexts = new string?[8192];

    public string Name => PolicyNames.PrefixCacheAware;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> available)
    {
        var count = available.Count;
        if (count <= 1)
        {
            return count == 0 ? null : DeploymentFilter.Single(context, available[0], time);
        }

        using var indices = new ScratchBuffer<int>(stackalloc int[DeploymentFilter.StackLength(count)], count);
        var visitor = new Candidates(indices.Span);
        var anyDeployment = DeploymentFilter.Visit(context, available, time, ref visitor);
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
        var useful = best >= Math.Min(MinUsefulBlocks, n) && best * 8L >= n;
        // The prompt's home: rendezvous on its first blocks, known from the request alone, so every replica agrees.
        var homeKey = hashes[Math.Min(HomeKeyBlock, n - 1)];
        int choice;
        RoutingDecision decision;
        if (useful)
        {
            // Among the deployments holding (nearly) the longest prefix, the conversation's own rendezvous order decides
            // (its first block past any shared system prompt): conversations that share a system prompt spread over its
            // holders, every replica ranks them alike, and a conversation that spilled for a turn comes back to where the
            // rest of its history is, at the cost of that one turn.
            var conversationKey = hashes[Math.Min(Math.Max(HomeKeyBlock, blocks.ConversationBlock), n - 1)];
            choice = Highest(ids, conversationKey, matched, loads, cap, best - Slack(best));
            decision = RoutingDecision.PrefixHit;
            if (choice < 0)
            {
                // Every such holder is over the bound: the longest holder within it, in the same order, so a hot prefix
                // spreads over a small, stable set of deployments instead of everywhere.
                choice = LongestWithinBound(ids, conversationKey, matched, loads, cap);
                decision = RoutingDecision.Spill;
            }
        }
        else
        {
            var home = Highest(ids, homeKey, matched, loads, int.MaxValue, int.MinValue);
            choice = loads[home] < cap ? home : Highest(ids, homeKey, matched, loads, cap, int.MinValue);
            decision = choice == home ? RoutingDecision.Home : RoutingDecision.Spill;
        }

        var picked = DeploymentFilter.DeploymentAt(available, candidates[choice]);
        // The engine will hold the whole prompt once it has prefilled it; concurrent requests for it should follow now.
        states.For(picked).Index.Use(hashes, matched[choice]);
        blocks.Picked = picked;
        blocks.PredictedBlocks = matched[choice];
        blocks.InsertedFrom = matched[choice];
        Record(context, decision, matched[choice]);
        return candidates[choice];
    }

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
        if (context.Features.Get<GatewayRequestContext>() is { } request)
        {
            request.RoutingDecision = decision;
        }

        context.Response.Headers[DecisionHeader] = decision switch
        {
            RoutingDecision.PrefixHit => HitText(matchedBlocks),
            RoutingDecision.Home => "home",
            _ => "spill",
        };
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

        public void Restart() => Count = 0;

        public void Visit(int index, Deployment deployment) => _indices[Count++] = index;
    }
}
