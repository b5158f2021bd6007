namespace Proxy.Abstractions;

/// <summary>The spend-log rows waiting to be written to the store, for readiness and metrics.</summary>
public interface ISpendBufferStatus
{
    int Depth { get; }

    int Capacity { get; }

    /// <summary>Rows dropped because the buffer was full (the store was down too long).</summary>
    long Dropped { get; }
}
