using Proxy.Abstractions;

namespace Proxy.Host.Routing;

/// <summary>Whether a model group costs nothing, read from the live snapshot (a reload applies at once).</summary>
internal sealed class SnapshotModelGroupPrices(GatewayState state) : IModelGroupPrices
{
    public bool IsFree(string modelGroup)
    {
        if (!state.Current.Groups.TryGetValue(modelGroup, out var group) || group.Deployments.Count == 0)
        {
            return false;
        }

        foreach (var route in group.Deployments)
        {
            if (route.Deployment.InputCostPerToken != 0 || route.Deployment.OutputCostPerToken != 0)
            {
                return false;
            }
        }

        return true;
    }
}
