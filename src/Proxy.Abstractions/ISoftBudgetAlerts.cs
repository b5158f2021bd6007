namespace Proxy.Abstractions;

/// <summary>soft_budget crossings so far, by the kind of budget holder (key, team, team_member, user, customer, organization).</summary>
public interface ISoftBudgetAlerts
{
    IReadOnlyList<string> Kinds { get; }

    long Count(string kind);

    /// <summary>Webhook deliveries that failed after every retry.</summary>
    long FailedDeliveries { get; }
}
