using Proxy.Admin.Budgets;
using Proxy.Admin.Keys;

namespace Proxy.Admin.Tenants;

/// <summary>
/// A request admitted by the tenant checks (an HttpContext feature): the entries its spend goes to and the rate
/// windows it holds until it ends.
/// </summary>
internal sealed class TenantTicket
{
    // Key model, team, member, user, customer: at most five windows besides the key's own.
    private readonly IRateLimited?[] _started = new IRateLimited?[5];
    private int _startedCount;

    public TenantEntry? Team { get; set; }

    public TenantEntry? Member { get; set; }

    public TenantEntry? User { get; set; }

    public TenantEntry? Customer { get; set; }

    public TenantEntry? Organization { get; set; }

    public TenantEntry? Proxy { get; set; }

    /// <summary>The key's use of the requested model, when the key has per-model budgets or limits.</summary>
    public ModelUse? KeyModel { get; set; }

    public string? UserId { get; set; }

    public string? CustomerId { get; set; }

    public string? TeamId => Team?.Id;

    public string? OrganizationId { get; set; }

    public int StartedCount => _startedCount;

    public IRateLimited Started(int index) => _started[index]!;

    public void AddStarted(IRateLimited limited) => _started[_startedCount++] = limited;
}
