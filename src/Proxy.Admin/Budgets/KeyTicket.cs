using Proxy.Admin.Keys;

namespace Proxy.Admin.Budgets;

/// <summary>A request admitted under a virtual key (an HttpContext feature): the spend tracker finishes it.</summary>
internal sealed class KeyTicket(KeyEntry key)
{
    public KeyEntry Key { get; } = key;
}
