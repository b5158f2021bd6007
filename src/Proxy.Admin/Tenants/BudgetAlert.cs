namespace Proxy.Admin.Tenants;

/// <summary>A soft_budget crossed: who (LiteLLM's event_group and the ids it names), the spend and the budgets.</summary>
internal sealed record BudgetAlert(string Group, string Id, string? Alias, double Spend, double SoftBudget, double? MaxBudget, long? BudgetResetAtMs)
{
    public string? TeamId { get; init; }

    public string? UserId { get; init; }

    public string? CustomerId { get; init; }

    public string? Token { get; init; }
}
