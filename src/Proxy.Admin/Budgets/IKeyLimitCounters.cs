namespace Proxy.Admin.Budgets;

/// <summary>
/// A key's rpm/tpm windows and requests in flight. In process today (<see cref="InMemoryKeyLimitCounters"/>); a
/// Redis implementation would make the limits hold across replicas.
/// </summary>
internal interface IKeyLimitCounters
{
    /// <summary>Admits the request and counts it, or says which limit refuses it (nothing is counted then).</summary>
    LimitOutcome TryStart(IRateLimited key, DateTimeOffset now);

    /// <summary>
    /// Which of max_parallel_requests and rpm_limit would refuse one more request now, counting nothing (the check made
    /// before a request's body is read; <see cref="TryStart"/> decides once the model is known).
    /// </summary>
    LimitOutcome Peek(IRateLimited key, DateTimeOffset now);

    /// <summary>The admitted request is over: it leaves the in-flight count and its tokens join this minute's.</summary>
    void Finish(IRateLimited key, DateTimeOffset now, long tokens);

    /// <summary>An admitted request was refused by a later limit: it is taken back out of the counts.</summary>
    void Cancel(IRateLimited key, DateTimeOffset now);

    /// <summary>A key was loaded into the cache: shared counters start following it before its first request here.</summary>
    void Track(IRateLimited key)
    {
    }
}
