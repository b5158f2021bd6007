namespace Proxy.Admin.Storage;

/// <summary>Spend to add to a key (and, after a budget_duration reset, the reset to apply first).</summary>
internal sealed record KeySpendUpdate(string Token, double Delta, bool Reset, long? BudgetResetAt);

/// <summary>A key's spend and budget window in the store, as a spend batch left them.</summary>
internal sealed class KeySpendState
{
    public string Token { get; set; } = "";

    public double Spend { get; set; }

    public long? BudgetResetAt { get; set; }
}
