namespace Proxy.Admin.Budgets;

/// <summary>What a limit check found: which limit refused (None = admitted) and what is left this minute.</summary>
internal readonly record struct LimitOutcome(LimitKind Refused, long Limit, long RemainingRequests, long RemainingTokens, int RetryAfterSeconds);
