namespace Proxy.Transforms.Caching;

/// <summary>A miss of the exact cache: its answer goes under its key.</summary>
internal sealed class ExactAnswerSink(ResponseCache cache, ActiveCache active, string key, TimeSpan? ttl) : IAnswerSink
{
    public int MaxItemBytes => active.Options.MaxItemBytes;

    public void OnTooLarge() => cache.Stats.OnTooLarge();

    public void Store(ReadOnlySpan<byte> answer) => cache.Store(active, key, answer, ttl);
}
