namespace Proxy.Transforms.Caching;

/// <summary>Where a <see cref="CacheStoreTap"/> hands a finished answer (the exact cache's store, or the semantic cache's).</summary>
internal interface IAnswerSink
{
    /// <summary>Answers larger than this are not stored.</summary>
    int MaxItemBytes { get; }

    /// <summary>Counts an answer that was too large to keep.</summary>
    void OnTooLarge();

    /// <summary>Stores the answer (always the non-streamed form); must not wait for the backend.</summary>
    void Store(ReadOnlySpan<byte> answer);
}
