using System.Globalization;
using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Proxy.Transforms.Caching.Semantic.Prompt;
using Proxy.Transforms.Streaming;

namespace Proxy.Transforms.Caching.Semantic;

/// <summary>
/// The semantic cache lookup, in the exact cache's place (after keys and guardrails, before routing; only one of the
/// two is ever configured). The request is split into its prompt text and its exact scope; a stored answer of the
/// same scope whose prompt is similar enough (cosine ≥ <c>similarity_threshold</c>) answers it as an exact hit does
/// (stream replay included), with <c>x-litellm-semantic-similarity</c>; a miss registers a tap that stores the answer
/// with the prompt's vector. A repeated prompt is recognised by its text before any embedding is made.
/// </summary>
internal sealed class SemanticCacheStage(SemanticCache cache, IOpenAiErrorWriter errors) : IGatewayRequestStage
{
    public const string SimilarityHeader = "x-litellm-semantic-similarity";

    public int Order => 300;

    public ValueTask<bool> InvokeAsync(HttpContext context, GatewayRequestContext request, ReadOnlyMemory<byte> body)
    {
        var active = cache.Current;
        if (active is null || request.ModelGroup is null || !active.Options.Common.Endpoints.Contains(request.Endpoint)
            || PromptShapes.For(request.Endpoint) is not { } shape
            // As the exact cache: a stored response is never answered from a cache.
            || (request.Endpoint == OpenAiEndpoint.Responses && !ResponseCacheStage.IsNotStored(body.Span)))
        {
            return ValueTask.FromResult(false);
        }

        return new ValueTask<bool>(InvokeCoreAsync(context, request, body, active, shape));
    }

    private async Task<bool> InvokeCoreAsync(HttpContext context, GatewayRequestContext request, ReadOnlyMemory<byte> body, ActiveSemanticCache active, IPromptShape shape)
    {
        var options = active.Options;
        string? text;
        string? key;
        var control = default(CacheControl);
        using (var skeleton = new ArrayPoolBufferWriter())
        {
            text = PromptSplitter.Split(body.Span, shape, skeleton);
            if (text is null)
            {
                return false;
            }

            var tenant = ResponseCacheStage.ScopeOf(context, request, SemanticScope.TenantScope(options.Common.Scope));
            key = CacheKeyBuilder.Build(skeleton.WrittenMemory.Span, request.Endpoint, request.ModelGroup!, options.Common.Namespace, tenant, ref control);
        }

        CacheKeyBuilder.ApplyHeader(context.Request.Headers, ref control);
        if (key is null || (options.Common.OptIn && !control.UseCache) || (control.NoCache && control.NoStore) || control.Ttl > CacheOptions.MaxTtlSeconds)
        {
            // An over-long ttl is refused with a 400 by the exact cache; here the request just goes on uncached.
            return false;
        }

        var scope = SemanticScope.Of(key, options.EmbeddingModel);
        var entryId = SemanticScope.EntryId(scope, text);
        var entryKey = options.EntryKey(entryId);
        request.Outcome.CacheKey = entryKey;
        var aborted = context.RequestAborted;
        if (!control.NoCache && await cache.TryGetExactAsync(active, entryId, aborted) is { } exact
            && await TryAnswerAsync(context, request, exact, entryKey, 1.0, control.MaxAge, exactText: true))
        {
            return true;
        }

        var vector = await cache.EmbedAsync(active, request, text, aborted);
        if (vector is null)
        {
            // Without a vector nothing can be looked up or stored: the request goes upstream as if uncached.
            cache.Stats.OnMiss();
            SetSimilarityHeader(context, 0);
            return false;
        }

        var similarity = 0.0;
        if (!control.NoCache)
        {
            var match = await cache.TrySearchAsync(active, scope, vector, aborted);
            similarity = match?.Similarity ?? 0;
            if (match is { Entry: { } stored } found
                && await TryAnswerAsync(context, request, stored, options.EntryKey(found.EntryId), found.Similarity, control.MaxAge, exactText: false))
            {
                return true;
            }

            cache.Stats.OnMiss();
        }

        SetSimilarityHeader(context, similarity);
        if (!control.NoStore)
        {
            var ttl = control.Ttl is { } seconds ? TimeSpan.FromSeconds(seconds) : options.Common.Ttl;
            request.AddResponseTap(new CacheStoreTap(new SemanticAnswerSink(cache, active, entryId, scope, text, vector, ttl), request));
        }

        return false;
    }

    private async Task<bool> TryAnswerAsync(
        HttpContext context, GatewayRequestContext request, ReadOnlyMemory<byte> stored, string entryKey, double similarity, double? maxAge, bool exactText)
    {
        if (!CacheEntry.TryRead(stored, out var storedAt, out var response)
            || (maxAge is { } seconds && (cache.Time.GetUtcNow() - storedAt).TotalSeconds > seconds))
        {
            return false;
        }

        var headers = context.Response.Headers;
        headers[SimilarityHeader] = Format(similarity);
        if (!await CachedResponseWriter.TryWriteAsync(context, request, response, entryKey, cache.Time, errors))
        {
            headers.Remove(SimilarityHeader);
            return false;
        }

        request.Outcome.CacheKey = entryKey;
        ResponseCacheStage.RecordHit(request, response.Span);
        cache.Stats.OnHit(exactText);
        return true;
    }

    // A miss's answer comes from upstream, and a retry clears the response headers: add the header as they are sent.
    private static void SetSimilarityHeader(HttpContext context, double similarity)
    {
        var value = Format(similarity);
        context.Response.OnStarting(static state =>
        {
            var (response, text) = ((HttpResponse, string))state;
            if (response.StatusCode < 400)
            {
                response.Headers[SimilarityHeader] = text;
            }

            return Task.CompletedTask;
        }, (context.Response, value));
    }

    private static string Format(double similarity) => Math.Round(similarity, 4).ToString("0.####", CultureInfo.InvariantCulture);
}
