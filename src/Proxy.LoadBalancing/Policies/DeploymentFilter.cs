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
    /// <summary>Up to this many destinations the candidate indices live on the stack; above it, in a pooled array.</summary>
    public const int StackCapacity = 256;

    /// <summary>The stack buffer a policy should pass to <see cref="Select"/>: empty when the list is too long for it.</summary>
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
    /// Writes the indices of the candidates into <paramref name="buffer"/> (or a rented array when it is too short) in
    /// list order. Dispose the result to return the array.
    /// </summary>
    public static Candidates Select(HttpContext context, IReadOnlyList<DestinationState> available, TimeProvider time, Span<int> buffer)
    {
        var count = available.Count;
        int[]? rented = null;
        if (buffer.Length < count)
        {
            rented = System.Buffers.ArrayPool<int>.Shared.Rent(count);
            buffer = rented;
        }

        var minute = -1L;
        var tokens = -1L;
        var anyDeployment = false;
        var lowestOrder = int.MaxValue;
        var found = 0;
        for (var i = 0; i < count; i++)
        {
            if (available[i].Model.Config.Metadata is not DeploymentMetadata metadata)
            {
                continue;
            }

            anyDeployment = true;
            var deployment = metadata.Deployment;
            if (!WithinLimits(deployment, context, time, ref minute, ref tokens))
            {
                continue;
            }

            buffer[found++] = i;
            lowestOrder = Math.Min(lowestOrder, deployment.Order);
        }

        // The lowest tier that still has a deployment within its limits; a full tier spills over to the next one.
        var kept = 0;
        for (var j = 0; j < found; j++)
        {
            var index = buffer[j];
            if (DeploymentAt(available, index).Order == lowestOrder)
            {
                buffer[kept++] = index;
            }
        }

        var fallback = anyDeployment || count == 0 ? null : available[0];
        return new Candidates(available, buffer[..kept], rented, fallback);
    }

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
