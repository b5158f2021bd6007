using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Proxy.LoadBalancing.Policies;

namespace Proxy.LoadBalancing.Fleet;

/// <summary>
/// Closes the prefix-cache-aware loop once the answer is in: the deployment that answered now holds the prompt (added to
/// its index here when the pick was not the strategy's own: a session pin, a single candidate), its prompt bytes per
/// token are learned from usage.prompt_tokens, and usage.prompt_tokens_details.cached_tokens is checked against what the
/// index predicted (see <see cref="DeploymentCacheState.Learn"/>). A request that was not answered takes its blocks back.
/// </summary>
internal sealed class PrefixCacheFeedback(PrefixCacheStates states) : IRequestCompletionObserver
{
    public int Order => ObserverOrder.Routing;

    public void OnCompleted(HttpContext context, GatewayRequestContext request)
    {
        if (context.Features.Get<PromptBlocks>() is not { Count: > 0 } blocks)
        {
            return;
        }

        var outcome = request.Outcome;
        var answered = outcome.Deployment;
        // Only an upstream's real answer says what its cache holds: not a failure, a mock or the response cache.
        if (answered is null || outcome.Failed || request.Attempt.Simulated || request.Attempt.HeadersTimestamp == 0 || outcome.CacheHit)
        {
            PrefixCacheAwarePolicy.Undo(states, blocks);
            return;
        }

        var state = states.For(answered);
        if (blocks.Picked is null || blocks.Picked.Id != answered.Id)
        {
            PrefixCacheAwarePolicy.Undo(states, blocks);
            blocks.PredictedBlocks = state.Index.Match(blocks.Hashes);
            state.Index.Use(blocks.Hashes, blocks.PredictedBlocks);
            blocks.Picked = answered;
            blocks.InsertedFrom = blocks.Count;
        }

        if (outcome.PromptTokens is > 0 and var promptTokens)
        {
            state.LearnScale(blocks.PromptBytes, promptTokens);
        }

        state.SyncCapacity(answered.Stats.Engine);
        if (outcome.CachedPromptTokens is { } cached)
        {
            blocks.PredictedTokens = state.TokensFor(blocks.PredictedBlocks, blocks.PromptBytes);
            state.Learn(blocks.PredictedTokens, cached, blocks.PredictedBlocks);
        }
    }
}
