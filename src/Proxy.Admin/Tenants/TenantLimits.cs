using System.Collections.Frozen;
using Proxy.Admin.Budgets;

namespace Proxy.Admin.Tenants;

/// <summary>What the hot path reads of a team, member, user, customer or organisation: immutable, replaced whole.</summary>
internal sealed record TenantLimits
{
    public static readonly TenantLimits None = new();

    public string? Alias { get; init; }

    public double? MaxBudget { get; init; }

    public double? SoftBudget { get; init; }

    public TimeSpan? BudgetDuration { get; init; }

    public long? RpmLimit { get; init; }

    public long? TpmLimit { get; init; }

    public long? MaxParallelRequests { get; init; }

    /// <summary>Allowed model groups; empty means all.</summary>
    public string[] Models { get; init; } = [];

    public bool Blocked { get; init; }

    public string? OrganizationId { get; init; }

    public FrozenDictionary<string, ModelBudget>? ModelMaxBudget { get; init; }

    public bool AllowsModel(string? requested, string? group)
    {
        if (Models.Length == 0)
        {
            return true;
        }

        foreach (var model in Models)
        {
            if (model is "all-proxy-models" or "*"
                || string.Equals(model, requested, StringComparison.Ordinal) || string.Equals(model, group, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
