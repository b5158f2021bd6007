using Proxy.Abstractions;
using Proxy.LoadBalancing.Policies;
using Proxy.Transforms.Body;
using Proxy.Transforms.Routing;

namespace Proxy.Host.Routing;

/// <summary>The request facts fleet routing needs, gathered once when the request is routed.</summary>
internal static class FleetRequestFacts
{
    private const int MaxSessionIdLength = 256;

    /// <summary>
    /// The session id for session affinity (LiteLLM's x-litellm-session-id, else x-litellm-trace-id, else
    /// metadata.session_id), and, when the prefix-cache-aware strategy is on, the prompt's block chain as a feature
    /// (disposed with the response).
    /// </summary>
    public static void Attach(HttpContext context, GatewayRequestContext request, RouterOptions router, ReadOnlySpan<byte> body, in RequestScan scan)
    {
        request.SetSession(SessionId(context.Request.Headers) ?? scan.SessionId);
        if (router.RoutingStrategy != PolicyNames.PrefixCacheAware)
        {
            return;
        }

        var blocks = PromptBlockHasher.Compute(body, scan);
        if (blocks is not null)
        {
            context.Features.Set(blocks);
            context.Response.RegisterForDispose(blocks);
        }
    }

    private static string? SessionId(IHeaderDictionary headers)
    {
        var value = headers["x-litellm-session-id"];
        if (value.Count == 0)
        {
            value = headers["x-litellm-trace-id"];
        }

        var id = value.Count == 0 ? null : value[0];
        return id is { Length: > 0 and <= MaxSessionIdLength } ? id : null;
    }
}
