using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Proxy.LoadBalancing.Health;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Policies;

/// <summary>
/// The rules every strategy applies before it chooses: only destinations that carry a <see cref="DeploymentMetadata"/>;
/// only deployments within their rpm/tpm limits this minute; and of those, only the lowest <c>order</c> tier.
/// </summary>
internal static class DeploymentFilter
{
    /// <summary>Up to this many destinations a policy's scratch space lives on the stack; above it, in a pooled array.</summary>
    public const int StackCapacity = 256;

    /// <summary>How much stack a policy should reserve for <paramref name="count"/> destinations (none when too many).</summary>
    public static int StackLength(int count) => count <= StackCapacity ? count : 0;

    /// <summary>The filter for a single destination: itself, unless it is a deployment over its limits.</summary>
    public static DestinationState? Single(HttpContext context, DestinationState destination, TimeProvider time)
    {
        if (destination.Model.Config.Metadata is not DeploymentMetadata metadata)
        {
            return destination;
        }

        var minute = -1L;
        var tokens = -1L;
        return WithinLimits(metadata.Deployment, context, time, ref minute, ref tokens) ? destination : null;
    }

    /// <summary>
    /// Shows the visitor every candidate in one pass, restarting it whenever a lower order tier turns up, so that at the
    /// end it has seen exactly the lowest tier that still has a deployment within its limits.
    /// </summary>
    /// <returns>False when no destination carries a deployment.</returns>
    public static bool Visit<TVisitor>(HttpContext context, IReadOnlyList<DestinationState> available, TimeProvider time, ref TVisitor visitor)
        where TVisitor : ICandidateVisitor, allows ref struct
    {
        var minute = -1L;
        var tokens = -1L;
        var anyDeployment = false;
        var lowestOrder = int.MaxValue;
        for (var i = 0; i < available.Count; i++)
        {
            if (available[i].Model.Config.Metadata is not DeploymentMetadata metadata)
            {
                continue;
            }

            anyDeployment = true;
            var deployment = metadata.Deployment;
            if (deployment.Order > lowestOrder || !WithinLimits(deployment, context, time, ref minute, ref tokens))
            {
                continue;
            }

            if (deployment.Order < lowestOrder)
            {
                lowestOrder = deployment.Order;
                visitor.Restart();
            }

            visitor.Visit(i, deployment);
        }

        return anyDeployment;
    }

    /// <summary>The destination at <paramref name="best"/>; with no candidate, null, or the first destination when none was a deployment.</summary>
    public static DestinationState? Result(IReadOnlyList<DestinationState> available, int best, bool anyDeployment) =>
        best >= 0 ? available[best] : anyDeployment ? null : available[0];

    public static Deployment DeploymentAt(IReadOnlyList<DestinationState> available, int index) =>
        ((DeploymentMetadata)available[index].Model.Config.Metadata!).Deployment;

    private static bool WithinLimits(Deployment deployment, HttpContext context, TimeProvider time, ref long minute, ref long tokens)
    {
        // The clock and the token estimate are read only once a deployment has a limit, and then once per pick.
        if (deployment.Rpm is { } rpm)
        {
            minute = minute < 0 ? DeploymentStats.MinuteOf(time) : minute;
            if (deployment.Stats.RequestsInMinute(minute) + 1L > rpm)
            {
                return false;
            }
        }

        if (deployment.Tpm is { } tpm)
        {
            minute = minute < 0 ? DeploymentStats.MinuteOf(time) : minute;
            tokens = tokens < 0 ? Math.Max(0, context.Features.Get<GatewayRequestContext>()?.EstimatedInputTokens ?? 0) : tokens;
            if (deployment.Stats.TokensInMinute(minute) + tokens > tpm)
            {
                return false;
            }
        }

        return true;
    }
}
