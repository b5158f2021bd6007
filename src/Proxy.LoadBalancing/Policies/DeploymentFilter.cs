using Proxy.Abstractions;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Policies;

/// <summary>
/// How a strategy walks its candidates. The candidates are already eligible (healthy, within their limits, of one
/// order tier: <see cref="Eligibility.DeploymentEligibility"/>), so a strategy only chooses among them.
/// </summary>
internal static class DeploymentFilter
{
    /// <summary>Up to this many destinations a policy's scratch space lives on the stack; above it, in a pooled array.</summary>
    public const int StackCapacity = 256;

    /// <summary>How much stack a policy should reserve for <paramref name="count"/> destinations (none when too many).</summary>
    public static int StackLength(int count) => count <= StackCapacity ? count : 0;

    /// <summary>Shows the visitor every candidate that carries a deployment, in one pass.</summary>
    /// <returns>False when no destination carries a deployment.</returns>
    public static bool Visit<TVisitor>(IReadOnlyList<DestinationState> available, ref TVisitor visitor)
        where TVisitor : ICandidateVisitor, allows ref struct
    {
        var anyDeployment = false;
        for (var i = 0; i < available.Count; i++)
        {
            if (available[i].Model.Config.Metadata is DeploymentMetadata metadata)
            {
                anyDeployment = true;
                visitor.Visit(i, metadata.Deployment);
            }
        }

        return anyDeployment;
    }

    /// <summary>The destination at <paramref name="best"/>; with no candidate, null, or the first destination when none was a deployment.</summary>
    public static DestinationState? Result(IReadOnlyList<DestinationState> available, int best, bool anyDeployment) =>
        best >= 0 ? available[best] : anyDeployment ? null : available[0];

    public static Deployment DeploymentAt(IReadOnlyList<DestinationState> available, int index) =>
        ((DeploymentMetadata)available[index].Model.Config.Metadata!).Deployment;
}
