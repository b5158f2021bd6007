namespace Proxy.Transforms.Caching.Semantic;

/// <summary>A semantic miss: its answer is stored with the prompt and the vector the lookup already made.</summary>
internal sealed class SemanticAnswerSink(
    SemanticCache cache, ActiveSemanticCache active, string entryId, string scope, string prompt, float[] vector, TimeSpan? ttl) : IAnswerSink
{
    public int MaxItemBytes => active.Options.Common.MaxItemBytes;

    public void OnTooLarge() => cache.Stats.OnTooLarge();

    public void Store(ReadOnlySpan<byte> answer)
    {
        if (answer.Length > MaxItemBytes)
        {
            OnTooLarge();
            return;
        }

        var entry = CacheEntry.Create(cache.Time.GetUtcNow(), answer);
        cache.Store(active, new SemanticEntry(entryId, scope, prompt, vector, entry, ttl));
    }
}
