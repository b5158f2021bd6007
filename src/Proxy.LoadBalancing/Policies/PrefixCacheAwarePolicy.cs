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
/// no candidate whose averaged load is above <see cref="LoadFactor"/> × the mean takes more (bounded load); a prompt no
/// one holds goes to the least loaded deployment (as least-busy) when this replica is the only router, and to its
/// rendezvous home when other replicas share the engines, so that every replica sends it to the same deployment.
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

    /// <summary>
    /// This replica counts as the only router when at least this share of the engines' queues is its own (scraped with
    /// router_settings.vllm_metrics_interval; without scraping it has no evidence of other replicas and counts as alone).
    /// </summary>
    public const double SoleRouterShare = 0.75;

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
        using var smoothedBuffer = new ScratchBuffer<double>(stackalloc double[DeploymentFilter.StackLength(m)], m);
        var matched = matchedBuffer.Span;
        var loads = loadBuffer.Span;
        var ids = idBuffer.Span;
        var smoothed = smoothedBuffer.Span;
        var frequency = time.TimestampFrequency;
        var total = 0L;
        var smoothedTotal = 0.0;
        var best = 0;
        var share = 0.0;
        for (var i = 0; i < m; i++)
        {
            var deployment = DeploymentFilter.DeploymentAt(available, candidates[i]);
            var state = states.For(deployment);
            var engine = deployment.Stats.Engine;
            // A restart the scraper saw (vLLM's process start time changed): that cache is gone.
            state.NoteRestarts(engine.Restarts);
            ids[i] = state.IdHash;
            matched[i] = state.Index.Match(hashes);
            loads[i] = FleetLoad.Of(deployment.Stats, now);
            smoothed[i] = state.SmoothLoad(loads[i], now, frequency);
            smoothedTotal += smoothed[i];
            // Smoothed over many scrapes, so it holds between them and through a late one; 1 until first scraped.
            share += engine.LocalShare;
            total += loads[i];
            best = Math.Max(best, matched[i]);
        }

        // The request's home order: rendezvous over the candidates, keyed by the request alone, so every replica agrees.
        // Past a short system prompt the key is the conversation's own first block: conversations that share the system
        // prompt spread (it is cheap to hold everywhere) and each keeps its place turn after turn. Otherwise (no system
        // prompt, or a long one: a document) it is the prompt's first 256 bytes, so that requests about one document,
        // whatever the question after it, meet on one deployment.
        var shared = blocks.ConversationBlock;
        var spread = shared > 0 && shared <= MaxSpreadSystemBlocks;
        var keyBlock = Math.Min(spread ? Math.Max(HomeKeyBlock, shared) : HomeKeyBlock, n - 1);
        var fleet = new Fleet(ids, matched, loads, smoothed, hashes[keyBlock], total, smoothedTotal);
        // Seen: some deployment was sent this prompt past what it shares with others (the short system prompt; for the
        // rest its first 320 bytes) and holds a useful part of it. Holders are those within a turn or two of the longest
        // match.
        var seen = Useful(best, n) && best >= Math.Min(spread ? shared : HomeKeyBlock + 1, n - 1);
        var holderFloor = seen ? best - Slack(best) : int.MaxValue;
        // Alone: this replica routes (nearly) all the engines' requests, so its index sees where everything went. With
        // other replicas (the scraped queues hold requests it did not send) its index is a fraction of the truth, and
        // only the rendezvous home is a choice every replica makes alike.
        var alone = share >= SoleRouterShare * m;
        var home = fleet.Highest(bounded: false, int.MinValue);
        int choice;
        if (alone && !seen)
        {
            // Nothing anyone holds is worth steering by: exactly least-busy (ties to the rendezvous order, so that idle
            // replicas still agree on a new conversation's first turn).
            choice = fleet.LeastLoaded(int.MinValue);
        }
        else
        {
            // The deployment this request belongs on: alone, the first holder in rendezvous order (the index is the
            // truth); otherwise the home, wherever this replica's own history says the prompt went.
            var preferred = alone ? fleet.Highest(bounded: false, holderFloor) : home;
            choice = fleet.Balance(preferred, holderFloor, alone);
        }

        // The home is "home" even when this replica's index does not know what it holds (other replicas sent it there).
        var decision = Useful(matched[choice], n) && matched[choice] >= Math.Min(holderFloor, best) ? RoutingDecision.PrefixHit
            : choice == home ? RoutingDecision.Home
            : alone && !seen ? RoutingDecision.LeastBusy
            : RoutingDecision.Spill;
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
            RoutingDecision.LeastBusy => "least-busy",
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

    /// <summary>The candidates' rendezvous weights, matches and loads, and the choices made from them; on the stack.</summary>
    private readonly ref struct Fleet(
        ReadOnlySpan<ulong> ids, ReadOnlySpan<int> matched, ReadOnlySpan<int> loads, ReadOnlySpan<double> smoothed, ulong key, long total, double smoothedTotal)
    {
        private readonly ReadOnlySpan<ulong> _ids = ids;
        private readonly ReadOnlySpan<int> _matched = matched;
        private readonly ReadOnlySpan<int> _loads = loads;
        private readonly ReadOnlySpan<double> _smoothed = smoothed;

        /// <summary>A pick that keeps a deployment at or below its fair share of the requests in flight: ceil(mean) after it.</summary>
        private int Fair { get; } = (int)Math.Ceiling((double)(total + 1) / ids.Length);

        /// <summary>
        /// Whatever its average, no pick may take a deployment more than two fair shares above the least loaded one now:
        /// that is a pile-up (a burst, another replica's requests), not a trend.
        /// </summary>
        private int Burst { get; } = (2 * (int)Math.Ceiling((double)(total + 1) / ids.Length)) + Min(loads);

        private double SmoothedBound { get; } = LoadFactor * smoothedTotal / ids.Length;

        /// <summary>
        /// Where a request for <paramref name="preferred"/> goes: there while it is within its fair share; else to a
        /// less loaded holder (a hot prefix is served by two or more holders in turn, so that none of them runs above the
        /// others); else there while within the bound; else a spill to the least loaded holder within the bound, or the
        /// next deployment: the least loaded when alone, the next in rendezvous order otherwise (where the other replicas
        /// spill too).
        /// </summary>
        public int Balance(int preferred, int holderFloor, bool alone)
        {
            if (preferred >= 0 && _loads[preferred] < Fair)
            {
                return preferred;
            }

            // With other replicas, a holder this replica once saw elsewhere (a spill) is not where the prompt lives: it
            // shares the home's load only when the home holds it too (a prefix served from several deployments).
            var split = alone || (preferred >= 0 && _matched[preferred] >= holderFloor);
            var holder = LeastLoaded(holderFloor, except: preferred);
            if (holder >= 0 && (preferred < 0 || (split && _loads[holder] < _loads[preferred]) || !Within(preferred)))
            {
                return holder;
            }

            if (preferred >= 0 && Within(preferred))
            {
                return preferred;
            }

            return alone ? LeastLoaded(int.MinValue) : Highest(bounded: true, int.MinValue);
        }

        /// <summary>
        /// Bounded load (consistent hashing with bounded loads, Mirrokni et al., on the averaged load): a deployment takes a
        /// request while its average load is at most <see cref="LoadFactor"/> × the group's, or the pick keeps it within its
        /// fair share now, and never more than two fair shares above the least loaded now. The least loaded candidate always fits.
        /// </summary>
        private bool Within(int i) => _loads[i] < Burst && (_loads[i] < Fair || _smoothed[i] <= SmoothedBound);

        private static int Min(ReadOnlySpan<int> loads)
        {
            var min = int.MaxValue;
            foreach (var load in loads)
            {
                min = Math.Min(min, load);
            }

            return min;
        }

        /// <summary>The candidate with the highest rendezvous weight holding at least <paramref name="minMatched"/> blocks (within the bound if <paramref name="bounded"/>); -1 if none.</summary>
        public int Highest(bool bounded, int minMatched)
        {
            var best = -1;
            var bestWeight = 0UL;
            for (var i = 0; i < _ids.Length; i++)
            {
                if ((bounded && !Within(i)) || _matched[i] < minMatched)
                {
                    continue;
                }

                var weight = Rendezvous.Weight(key, _ids[i]);
                if (best < 0 || weight > bestWeight)
                {
                    best = i;
                    bestWeight = weight;
                }
            }

            return best;
        }

        /// <summary>The least loaded candidate within the bound holding at least <paramref name="minMatched"/> blocks, ties in rendezvous order; -1 if none.</summary>
        public int LeastLoaded(int minMatched, int except = -1)
        {
            var best = -1;
            var bestWeight = 0UL;
            for (var i = 0; i < _ids.Length; i++)
            {
                if (i == except || _matched[i] < minMatched || !Within(i))
                {
                    continue;
                }

                var weight = Rendezvous.Weight(key, _ids[i]);
                if (best < 0 || _loads[i] < _loads[best] || (_loads[i] == _loads[best] && weight > bestWeight))
                {
                    best = i;
                    bestWeight = weight;
                }
            }

            return best;
        }
    }
}
