namespace Proxy.Abstractions;

/// <summary>
/// When each <see cref="IRequestCompletionObserver"/> runs, lowest first: pricing completes the outcome (cost, key
/// spend) that the others report.
/// </summary>
public static class ObserverOrder
{
    /// <summary>What the router learns from the answer (prefix-cache index, affinity pins): before anything reports it.</summary>
    public const int Routing = 50;

    public const int Pricing = 100;

    public const int Metrics = 200;

    public const int AccessLog = 300;

    public const int SpendLog = 400;
}
