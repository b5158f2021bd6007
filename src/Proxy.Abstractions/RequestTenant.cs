namespace Proxy.Abstractions;

/// <summary>
/// Who a request was made by and for, beyond its key (an HttpContext feature set by the admin feature): its team,
/// internal user, customer and organisation, for metrics labels and the access log. Ids only, never a secret.
/// </summary>
public sealed class RequestTenant
{
    public string? TeamId { get; set; }

    public string? TeamAlias { get; set; }

    public string? UserId { get; set; }

    /// <summary>The customer (end user): x-litellm-customer-id / x-litellm-end-user-id, or the body's user.</summary>
    public string? EndUserId { get; set; }

    public string? OrganizationId { get; set; }

    /// <summary>The team's max_budget and spend after this request; null when the team has no budget.</summary>
    public double? TeamMaxBudget { get; set; }

    public double? TeamSpend { get; set; }
}
