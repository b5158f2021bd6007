using Proxy.Abstractions;

namespace Proxy.LoadBalancing.Retry;

/// <summary>Which model groups to try after a group has failed, in LiteLLM's order.</summary>
public static class FallbackPlanner
{
    private const string Wildcard = "*";

    public static IReadOnlyList<string> For(string group, UpstreamFailureKind kind, RouterOptions options)
    {
        IReadOnlyList<string>? chain;
        if (kind == UpstreamFailureKind.ContextWindowExceeded && options.ContextWindowFallbacks is { Count: > 0 } contextWindow)
        {
            // LiteLLM: with context_window_fallbacks configured, a group that has no entry there gets none at all.
            chain = contextWindow.TryGetValue(group, out var list) ? list : [];
        }
        else if (kind == UpstreamFailureKind.ContentPolicyViolation && options.ContentPolicyFallbacks is { Count: > 0 } contentPolicy)
        {
            chain = contentPolicy.TryGetValue(group, out var list) ? list : [];
        }
        else if (kind == UpstreamFailureKind.BadRequest)
        {
            // The client's request is at fault; another model would refuse it too.
            chain = [];
        }
        else if (options.Fallbacks.TryGetValue(group, out var list) || options.Fallbacks.TryGetValue(Wildcard, out list))
        {
            chain = list;
        }
        else
        {
            chain = options.DefaultFallbacks;
        }

        if (chain.Count == 0)
        {
            return [];
        }

        var result = new List<string>(Math.Min(chain.Count, options.MaxFallbacks));
        foreach (var candidate in chain)
        {
            if (result.Count >= options.MaxFallbacks)
            {
                break;
            }

            if (!string.Equals(candidate, group, StringComparison.Ordinal) && !result.Contains(candidate))
            {
                result.Add(candidate);
            }
        }

        return result;
    }
}
