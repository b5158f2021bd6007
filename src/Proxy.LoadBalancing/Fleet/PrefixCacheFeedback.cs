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
    public void OnCompleted(HttpContext context, GatewayRequestContext request)
    {
        if (context.Features.Get<PromptBlocks>() is not { Count: > 0 } blocks)
        {
            return;
        }

        var answered = request.Deployment;
        if (answered is null || request.FailureKind != UpstreamFailureKind.None || request.UpstreamHeadersTimestamp == 0 || request.CacheHit)
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

        if (request.PromptTokens is > 0 and var promptTokens)
        {
            state.LearnScale(blocks.PromptBytes, promptTokens);
        }

        state.SyncCapacity(answered.Stats.Engine);
        if (request.CachedPromptTokens is { } cached)
        {
            blocks.PredictedTokens = state.TokensFor(blocks.PredictedBlocks, blocks.PromptBytes);
            state.Learn(blocks.PredictedTokens, cached, blocks.PredictedBlocks);
        }
    }
}
