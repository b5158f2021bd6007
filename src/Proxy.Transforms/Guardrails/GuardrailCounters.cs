namespace Proxy.Transforms.Guardrails;

/// <summary>One guardrail's counters; updated with Interlocked, read at any time.</summary>
public sealed class GuardrailCounters
{
    private long _checks;
    private long _passed;
    private long _blocked;
    private long _failedOpen;
    private long _failedClosed;

    /// <summary>Calls made to the guard's backend.</summary>
    public long Checks => Interlocked.Read(ref _checks);

    public long Passed => Interlocked.Read(ref _passed);

    /// <summary>Requests or answers refused because the guard flagged them.</summary>
    public long Blocked => Interlocked.Read(ref _blocked);

    /// <summary>The guard failed (down, slow, malformed answer) and the request went through (fail_open).</summary>
    public long FailedOpen => Interlocked.Read(ref _failedOpen);

    /// <summary>The guard failed and the request was refused with a 503 (fail_closed).</summary>
    public long FailedClosed => Interlocked.Read(ref _failedClosed);

    internal void Check() => Interlocked.Increment(ref _checks);

    internal void Pass() => Interlocked.Increment(ref _passed);

    internal void Block() => Interlocked.Increment(ref _blocked);

    internal void Failure(bool open) => Interlocked.Increment(ref open ? ref _failedOpen : ref _failedClosed);
}
