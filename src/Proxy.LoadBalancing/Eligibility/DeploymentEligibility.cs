using Proxy.Abstractions;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Eligibility;

/// <summary>
/// The one place that decides which deployments of a group may serve an attempt, before YARP's load balancing runs.
/// A deployment is eligible when it is healthy (YARP leaves cooling-down ones out of the available destinations), big
/// enough for the prompt (pre-call checks), within its rpm, tpm and max_parallel_requests right now, not tried yet by
/// this request while an untried one is left, and in the lowest <c>order</c> tier of what is left. The routing
/// strategies only pick among the result; because the limits are applied here, YARP's shortcut for a single
/// candidate (it skips the policy) cannot skip them.
/// </summary>
public static class DeploymentEligibility
{
    /// <summary>
    /// Narrows <paramref name="available"/> to the eligible deployments. Returns <paramref name="available"/> itself when
    /// all of it is eligible (the common case allocates and copies nothing); otherwise fills and returns
    /// <paramref name="scratch"/>, which the caller owns and may reuse for the next attempt.
    /// </summary>
    /// <param name="tried">Destinations this request has already called in this group; null before the first retry.</param>
    public static IReadOnlyList<DestinationState> Select(
        IReadOnlyList<DestinationState> available, IReadOnlyList<DestinationState>? tried, in EligibilityQuery query,
        ref List<DestinationState>? scratch, out EligibilityVerdict verdict)
    {
        // First pass: which deployments pass the checks that do not depend on the others, and the lowest order among
        // the untried ones and among all of them.
        var passing = 0;
        var untried = 0;
        var tooSmall = 0;
        var lowestUntried = int.MaxValue;
        var lowest = int.MaxValue;
        var allOneTier = true;
        var firstOrder = int.MinValue;
        for (var i = 0; i < available.Count; i++)
        {
            var destination = available[i];
            if (!Passes(destination, query, ref tooSmall, out var order))
            {
                continue;
            }

            passing++;
            lowest = Math.Min(lowest, order);
            allOneTier &= firstOrder == int.MinValue || firstOrder == order;
            firstOrder = order;
            if (tried is null || !Contains(tried, destination))
            {
                untried++;
                lowestUntried = Math.Min(lowestUntried, order);
            }
        }

        if (passing == 0)
        {
            verdict = available.Count == 0 ? EligibilityVerdict.NoneHealthy
                : tooSmall > 0 && tooSmall == available.Count ? EligibilityVerdict.ContextWindowExceeded
                : EligibilityVerdict.OverLimits;
            return [];
        }

        verdict = EligibilityVerdict.Eligible;
        if (passing == available.Count && untried == passing && allOneTier)
        {
            return available;
        }

        // Second pass: the untried ones of the lowest untried tier, or, once every deployment has been tried, the
        // lowest tier again (a retry may go back to a deployment that failed before).
        var onlyUntried = untried > 0;
        var tier = onlyUntried ? lowestUntried : lowest;
        var result = scratch ??= new List<DestinationState>(available.Count);
        result.Clear();
        var ignored = 0;
        for (var i = 0; i < available.Count; i++)
        {
            var destination = available[i];
            if (Passes(destination, query, ref ignored, out var order) && order == tier
                && (!onlyUntried || tried is null || !Contains(tried, destination)))
            {
                result.Add(destination);
            }
        }

        return result;
    }

    /// <summary>Seconds until the per-minute limits start over (LiteLLM's Retry-After for a group over its limits).</summary>
    public static int SecondsToNextMinute(TimeProvider time)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return (int)Math.Max(1, Math.Ceiling((60_000 - (now % 60_000)) / 1000.0));
    }

    private static bool Passes(DestinationState destination, in EligibilityQuery query, ref int tooSmall, out int order)
    {
        if (destination.Model.Config.Metadata is not DeploymentMetadata metadata)
        {
            // Not one of ours (cannot happen for a model group's cluster): no facts, so nothing to refuse it for.
            order = 0;
            return true;
        }

        var deployment = metadata.Deployment;
        order = deployment.Order;
        if (query.CheckContextWindow && deployment.MaxInputTokens is { } max && query.InputTokens > max)
        {
            tooSmall++;
            return false;
        }

        return WithinLimits(deployment, query);
    }

    /// <summary>The deployment may take one more request of <see cref="EligibilityQuery.InputTokens"/> tokens now.</summary>
    public static bool WithinLimits(Deployment deployment, in EligibilityQuery query)
    {
        var stats = deployment.Stats;
        if (deployment.Rpm is { } rpm && stats.RequestsInMinute(query.Minute) + 1L > rpm)
        {
            return false;
        }

        if (deployment.Tpm is { } tpm && stats.TokensInMinute(query.Minute) + Math.Max(0, query.InputTokens) > tpm)
        {
            return false;
        }

        return deployment.MaxParallelRequests is not { } parallel || stats.InFlight < parallel;
    }

    private static bool Contains(IReadOnlyList<DestinationState> list, DestinationState destination)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (ReferenceEquals(list[i], destination))
            {
                return true;
            }
        }

        return false;
    }
}
