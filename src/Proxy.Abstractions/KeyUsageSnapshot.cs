namespace Proxy.Abstractions;

/// <summary>A virtual key's spend and what it may still send, after a request; for the remaining-budget and -limit metrics.</summary>
/// <param name="MaxBudget">USD; null when the key has no budget.</param>
/// <param name="RemainingRequests">rpm_limit minus this minute's use; null when unlimited.</param>
public sealed record KeyUsageSnapshot(double Spend, double? MaxBudget, long? RemainingRequests, long? RemainingTokens);
