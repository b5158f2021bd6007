namespace Proxy.Admin.Storage;

/// <summary>Spend to add to a key (and, after a budget_duration reset, the reset to apply first).</summary>
internal sealed record KeySpendUpdate(string Token, double Delta, bool Reset, long? BudgetResetAt);
