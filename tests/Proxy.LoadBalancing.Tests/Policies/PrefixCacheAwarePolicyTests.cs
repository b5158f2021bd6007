using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Proxy.Abstractions;
using Proxy.LoadBalancing.Fleet;
using Proxy.LoadBalancing.Policies;
using Proxy.LoadBalancing.Tests.Fleet;
using Proxy.LoadBalancing.Tests.TestSupport;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Tests.Policies;

public class PrefixCacheAwarePolicyTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly PrefixCacheStates _states = new();

    private PrefixCacheAwarePolicy Policy() => new(_states, _time);

    [Fact]
    public void NewPrompt_GoesHome_AndTheSamePromptFollowsAsAPrefixHit()
    {
        var available = Destinations.For(Deployments(4));
        var policy = Policy();
        var chain = PrefixIndexTests.Chain(1, 40);

        var (first, firstContext) = Pick(policy, available, chain);
        Assert.Equal("home", Decision(firstContext));
        Assert.Equal("home", firstContext.Features.Get<GatewayRequestContext>()!.Outcome.RoutingDecision);

        // The same conversation one turn later: the earlier blocks plus new ones.
        var longer = PrefixIndexTests.Chain(1, 60);
        var (second, secondContext) = Pick(policy, available, longer);
        Assert.Same(first, second);
        Assert.Equal("prefix-hit 40 blocks", Decision(secondContext));
    }

    [Fact]
    public void TwoReplicasWithNoSharedState_AgreeOnTheHomeOfNewPrompts()
    {
        // Same config on both replicas: same deployment ids, separate indexes and counters.
        var replicaA = Destinations.For(Deployments(4));
        var replicaB = Destinations.For(Deployments(4));
        var policyA = new PrefixCacheAwarePolicy(new PrefixCacheStates(), _time);
        var policyB = new PrefixCacheAwarePolicy(new PrefixCacheStates(), _time);
        var homes = new int[4];
        for (var i = 0; i < 200; i++)
        {
            var chain = PrefixIndexTests.Chain(1000 + i, 12);
            var a = Pick(policyA, replicaA, chain).Picked;
            var b = Pick(policyB, replicaB, chain).Picked;
            Assert.Equal(a.DestinationId, b.DestinationId);
            homes[Array.IndexOf(replicaA, a)]++;
        }

        // And the homes spread over the group (rendezvous hashing is uniform).
        Assert.All(homes, count => Assert.InRange(count, 25, 75));
    }

    [Fact]
    public void PromptsSharingTheirFirstBlocks_ShareAHome()
    {
        var available = Destinations.For(Deployments(4));
        var policy = Policy();
        var document = PrefixIndexTests.Chain(7, 100);
        DestinationState? home = null;
        for (var i = 0; i < 10; i++)
        {
            // A different question after the same document each time, on a fresh replica.
            var prompt = new ulong[110];
            document.CopyTo(prompt, 0);
            PrefixIndexTests.Chain(50 + i, 10).CopyTo(prompt, 100);
            var picked = Pick(new PrefixCacheAwarePolicy(new PrefixCacheStates(), _time), available, prompt).Picked;
            home ??= picked;
            Assert.Same(home, picked);
        }
    }

    [Fact]
    public void HolderOverTheLoadBound_SpillsToAnotherDeployment_WhichThenHoldsThePrefixToo()
    {
        var deployments = Deployments(4);
        var available = Destinations.For(deployments);
        var policy = Policy();
        var chain = PrefixIndexTests.Chain(3, 50);
        var (home, _) = Pick(policy, available, chain);
        var homeDeployment = deployments[Array.IndexOf(available, home)];
        // The home has 3 requests in flight, the others none: the bound is ceil(1.25 x 4 / 4) = 2.
        for (var i = 0; i < 3; i++)
        {
            homeDeployment.Stats.RequestStarted(0);
        }

        var (spilled, spillContext) = Pick(policy, available, chain);
        Assert.NotSame(home, spilled);
        Assert.Equal("spill", Decision(spillContext));

        // The spill target is stable (rendezvous order), and now a holder itself.
        var (again, againContext) = Pick(policy, available, chain);
        Assert.Same(spilled, again);
        Assert.Equal("prefix-hit 50 blocks", Decision(againContext));
    }

    [Fact]
    public void Retry_WithoutTheFailedHolder_GoesToTheRunnerUpHolder_AndTakesTheFailedAttemptsBlocksBack()
    {
        var deployments = Deployments(4);
        var available = Destinations.For(deployments);
        var policy = Policy();
        var document = PrefixIndexTests.Chain(5, 80);
        // Deployment 2 holds the first 80 blocks, deployment 0 the first 40.
        _states.For(deployments[2]).Index.Use(document);
        _states.For(deployments[0]).Index.Use(document[..40]);
        var prompt = PrefixIndexTests.Chain(5, 90);
        document.CopyTo(prompt, 0);

        var context = Context(prompt);
        var first = policy.PickDestination(context, Destinations.Cluster, available);
        Assert.Same(available[2], first);
        Assert.Equal(90, _states.For(deployments[2]).Index.Match(prompt));

        // The attempt failed; the retry leaves deployment 2 out.
        DestinationState[] rest = [available[0], available[1], available[3]];
        var retry = policy.PickDestination(context, Destinations.Cluster, rest);

        Assert.Same(available[0], retry);
        Assert.Equal("prefix-hit 40 blocks", Decision(context));
        Assert.Equal(80, _states.For(deployments[2]).Index.Match(prompt));
    }

    [Fact]
    public void ConversationThatSpilledForATurn_ComesBackToItsHome_WhichHoldsAllButThatTurn()
    {
        var deployments = Deployments(4);
        var available = Destinations.For(deployments);
        var policy = Policy();
        var turn1 = PrefixIndexTests.Chain(21, 60);
        var (home, _) = Pick(policy, available, turn1);
        var homeDeployment = deployments[Array.IndexOf(available, home)];
        for (var i = 0; i < 3; i++)
        {
            homeDeployment.Stats.RequestStarted(0);
        }

        // Turn 2 spills (the home is over the bound); the other deployment now holds turns 1 and 2.
        var turn2 = PrefixIndexTests.Chain(21, 63);
        var (spilled, _) = Pick(policy, available, turn2);
        Assert.NotSame(home, spilled);
        for (var i = 0; i < 3; i++)
        {
            homeDeployment.Stats.RequestFinished();
        }

        // Turn 3: the home holds 60 of the spill target's 63 blocks, close enough to go back to where replicas send it.
        var (third, context) = Pick(policy, available, PrefixIndexTests.Chain(21, 66));
        Assert.Same(home, third);
        Assert.Equal("prefix-hit 60 blocks", Decision(context));
    }

    [Fact]
    public void ScrapedRestart_DropsThatDeploymentsIndex()
    {
        var deployments = Deployments(2);
        var available = Destinations.For(deployments);
        var policy = Policy();
        var chain = PrefixIndexTests.Chain(31, 40);
        var (home, _) = Pick(policy, available, chain);
        var homeDeployment = deployments[Array.IndexOf(available, home)];
        var engine = homeDeployment.Stats.Engine;
        engine.Update(0, 0, 0, 16, 1000, 0, freshUntil: 1, startTime: 1000);
        Assert.Equal(40, _states.For(homeDeployment).Index.Match(chain));

        engine.Update(0, 0, 0, 16, 1000, 0, freshUntil: 1, startTime: 2000);
        Assert.Equal(1, engine.Restarts);
        var (_, context) = Pick(policy, available, chain);

        Assert.Equal(1, _states.For(homeDeployment).Drops);
        Assert.DoesNotContain("prefix-hit", Decision(context), StringComparison.Ordinal);
    }

    [Fact]
    public void ShortSharedPreamble_IsNotAUsefulMatch()
    {
        var available = Destinations.For(Deployments(4));
        var policy = Policy();
        var preamble = PrefixIndexTests.Chain(9, 2);
        var homes = new HashSet<string>();
        for (var i = 0; i < 40; i++)
        {
            var prompt = new ulong[30];
            preamble.CopyTo(prompt, 0);
            PrefixIndexTests.Chain(100 + i, 28).CopyTo(prompt, 2);
            var (picked, context) = Pick(policy, available, prompt);
            Assert.NotEqual("prefix-hit 2 blocks", Decision(context));
            homes.Add(picked.DestinationId);
        }

        // Two shared blocks do not pull every prompt onto one deployment.
        Assert.Equal(4, homes.Count);
    }

    [Fact]
    public void NoBlocks_PicksTheLeastLoaded()
    {
        var deployments = Deployments(3);
        deployments[0].Stats.RequestStarted(0);
        deployments[2].Stats.RequestStarted(0);
        var available = Destinations.For(deployments);

        Assert.Same(available[1], Policy().PickDestination(Destinations.Context(), Destinations.Cluster, available));
    }

    [Fact]
    public void ScrapedEngineLoad_CountsForTheBound()
    {
        var deployments = Deployments(2);
        var available = Destinations.For(deployments);
        var policy = Policy();
        var chain = PrefixIndexTests.Chain(11, 30);
        var (home, _) = Pick(policy, available, chain);
        var homeDeployment = deployments[Array.IndexOf(available, home)];
        // Another replica's requests: only the engine's gauges show them.
        homeDeployment.Stats.Engine.Update(running: 8, waiting: 4, kvCacheUsage: 0.9, blockSize: 16, gpuBlocks: 1000, inFlightAtScrape: 0,
            freshUntil: _time.GetTimestamp() + (long)(10 * _time.TimestampFrequency));
        // For a couple of seconds (the bound is on the averaged load), as unrelated picks sample it.
        for (var i = 0; i < 4; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(500));
            Pick(new PrefixCacheAwarePolicy(_states, _time), available, PrefixIndexTests.Chain(2000 + i, 30));
        }

        var (next, _) = Pick(policy, available, chain);

        Assert.NotSame(home, next);
    }

    [Fact]
    public void NewPrompt_WhenAlone_GoesToTheLeastLoaded_NotToAHomeWithinTheBound()
    {
        var deployments = Deployments(4);
        var available = Destinations.For(deployments);
        var chain = PrefixIndexTests.Chain(41, 40);
        // Where the prompt would go on an idle group (its rendezvous home), found on a scratch replica.
        var home = Array.IndexOf(available, Pick(new PrefixCacheAwarePolicy(new PrefixCacheStates(), _time), available, chain).Picked);
        var idle = (home + 1) % 4;
        for (var i = 0; i < 4; i++)
        {
            if (i != idle)
            {
                deployments[i].Stats.RequestStarted(0);
            }
        }

        // The home (1 in flight) is within any bound, but nothing is cached anywhere: exactly least-busy.
        var (picked, context) = Pick(Policy(), available, chain);

        Assert.Same(available[idle], picked);
        Assert.Equal("least-busy", Decision(context));
    }

    [Fact]
    public void SeenPrompt_WithOtherReplicasOnTheEngines_GoesHome_WhereverThisReplicasIndexSaysItWent()
    {
        var deployments = Deployments(4);
        var available = Destinations.For(deployments);
        var document = PrefixIndexTests.Chain(43, 60);
        var home = Array.IndexOf(available, Pick(new PrefixCacheAwarePolicy(new PrefixCacheStates(), _time), available, document).Picked);
        var elsewhere = (home + 2) % 4;
        // This replica once sent the document elsewhere; the engines' queues show it sends only a quarter of their requests.
        _states.For(deployments[elsewhere]).Index.Use(document);
        foreach (var deployment in deployments)
        {
            for (var scrape = 0; scrape < 20; scrape++)
            {
                deployment.Stats.Engine.Update(running: 4, waiting: 0, kvCacheUsage: 0.5, blockSize: 16, gpuBlocks: 1000, inFlightAtScrape: 1,
                    freshUntil: _time.GetTimestamp() + 10_000);
            }
        }

        var (picked, _) = Pick(Policy(), available, document);

        // The other replicas send it home; following this replica's own stale history would split it over two engines.
        Assert.Same(available[home], picked);
    }

    [Fact]
    public void WithOtherReplicas_AConversationThisReplicaOnceSawElsewhere_StaysHomeWhileTheHomeIsWithinTheBound()
    {
        var deployments = Deployments(4);
        var available = Destinations.For(deployments);
        var conversation = PrefixIndexTests.Chain(49, 60);
        var home = Array.IndexOf(available, Pick(new PrefixCacheAwarePolicy(new PrefixCacheStates(), _time), available, conversation).Picked);
        var elsewhere = (home + 1) % 4;
        // This replica sent one turn elsewhere (a spill); the other replicas kept sending the conversation home.
        _states.For(deployments[elsewhere]).Index.Use(conversation[..50]);
        for (var i = 0; i < 4; i++)
        {
            for (var scrape = 0; scrape < 20; scrape++)
            {
                // None of the engines' requests are this replica's; the home runs 10, the others 8.
                deployments[i].Stats.Engine.Update(running: i == home ? 10 : 8, waiting: 0, kvCacheUsage: 0.5, blockSize: 16, gpuBlocks: 1000,
                    inFlightAtScrape: 0, freshUntil: _time.GetTimestamp() + (long)(10 * _time.TimestampFrequency));
            }
        }

        var (picked, context) = Pick(Policy(), available, conversation);

        // The home is above its fair share but within the bound: a less loaded deployment that holds only what this
        // replica once sent it does not take the turn.
        Assert.Same(available[home], picked);
        Assert.Equal("home", Decision(context));
    }

    [Fact]
    public void HotPrefix_ItsHolderAboveItsFairShare_GoesToALessLoadedHolder()
    {
        var deployments = Deployments(4);
        var available = Destinations.For(deployments);
        var prefix = PrefixIndexTests.Chain(45, 80);
        var home = Array.IndexOf(available, Pick(new PrefixCacheAwarePolicy(new PrefixCacheStates(), _time), available, prefix).Picked);
        var second = (home + 1) % 4;
        _states.For(deployments[home]).Index.Use(prefix);
        _states.For(deployments[second]).Index.Use(prefix);
        // In flight: the home 2, the other holder 1, the rest 2 each: the home is within the bound, but above its fair share.
        for (var i = 0; i < 4; i++)
        {
            for (var r = i == second ? 1 : 2; r > 0; r--)
            {
                deployments[i].Stats.RequestStarted(0);
            }
        }

        var (picked, context) = Pick(Policy(), available, prefix);

        Assert.Same(available[second], picked);
        Assert.Equal("prefix-hit 80 blocks", Decision(context));
    }

    [Fact]
    public void BoundedLoad_IsOnTheAveragedLoad_SoABriefPeakKeepsThePrefixOnItsHolder_AndASustainedOneSpillsIt()
    {
        var deployments = Deployments(4);
        var available = Destinations.For(deployments);
        var policy = Policy();
        var prefix = PrefixIndexTests.Chain(47, 40);
        foreach (var deployment in deployments)
        {
            deployment.Stats.RequestStarted(0);
        }

        var (holder, _) = Pick(policy, available, prefix);
        var holderDeployment = deployments[Array.IndexOf(available, holder)];
        // A moment later the holder has one more in flight: above 1.25 x the mean now, not on average.
        _time.Advance(TimeSpan.FromMilliseconds(20));
        holderDeployment.Stats.RequestStarted(0);
        var (brief, briefContext) = Pick(policy, available, prefix);
        Assert.Same(holder, brief);
        Assert.Equal("prefix-hit 40 blocks", Decision(briefContext));

        // It stays that way for seconds: now its average is above the bound too, and the prefix spills.
        for (var i = 0; i < 10; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(500));
            Pick(new PrefixCacheAwarePolicy(_states, _time), available, PrefixIndexTests.Chain(1000 + i, 40));
        }

        var (sustained, _) = Pick(policy, available, prefix);
        Assert.NotSame(holder, sustained);
    }

    [Fact]
    public void Pick_AfterWarmUp_AllocatesNothing()
    {
        var available = Destinations.For(Deployments(16));
        var policy = Policy();
        var context = Context(PrefixIndexTests.Chain(1, 2000));
        context.Response.Headers[PrefixCacheAwarePolicy.DecisionHeader] = "x";
        var blocks = context.Features.Get<PromptBlocks>()!;
        for (var i = 0; i < 10; i++)
        {
            blocks.Picked = null;
            policy.PickDestination(context, Destinations.Cluster, available);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            blocks.Picked = null;
            policy.PickDestination(context, Destinations.Cluster, available);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static Abstractions.Deployment[] Deployments(int count)
    {
        var result = new Abstractions.Deployment[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = Destinations.Deployment("deployment-" + i);
        }

        return result;
    }

    private (DestinationState Picked, HttpContext Context) Pick(PrefixCacheAwarePolicy policy, DestinationState[] available, ulong[] chain)
    {
        var context = Context(chain);
        var picked = policy.PickDestination(context, Destinations.Cluster, available);
        Assert.NotNull(picked);
        return (picked, context);
    }

    private static HttpContext Context(ulong[] chain)
    {
        var context = Destinations.Context();
        var pooled = ArrayPool<ulong>.Shared.Rent(chain.Length);
        chain.CopyTo(pooled, 0);
        context.Features.Set(new PromptBlocks(pooled, chain.Length, chain.Length * PromptBlocks.BlockBytes));
        return context;
    }

    private static string Decision(HttpContext context) => context.Response.Headers[PrefixCacheAwarePolicy.DecisionHeader].ToString();
}
