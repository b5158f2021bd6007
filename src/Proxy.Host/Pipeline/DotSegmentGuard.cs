using Microsoft.AspNetCore.Http.Features;
using Proxy.Abstractions;

namespace Proxy.Host.Pipeline;

/// <summary>
/// Refuses request targets with "." or ".." path segments (also percent-encoded) before routing. Kestrel resolves them,
/// so <c>/vllm/../key/generate</c> would arrive as <c>/key/generate</c>: a pass-through path must not become a
/// different route of the gateway (the admin API), and no client of an OpenAI-style API sends such paths.
/// </summary>
internal sealed class DotSegmentGuard(RequestDelegate next, IOpenAiErrorWriter errors)
{
    public Task InvokeAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (raw is null || !HasDotSegment(raw))
        {
            return next(context);
        }

        return errors.WriteAsync(context, new GatewayError(400, "invalid_request_error",
            "The request path has a '.' or '..' segment; send the path without it (e.g. /vllm/score, not /vllm/../score).", "path"));
    }

    internal static bool HasDotSegment(string target)
    {
        var end = target.IndexOfAny(['?', '#']);
        var path = end < 0 ? target.AsSpan() : target.AsSpan(0, end);
        // Common case: no dot and no percent sign, nothing to look at.
        if (path.IndexOfAny('.', '%') < 0)
        {
            return false;
        }

        foreach (var range in path.Split('/'))
        {
            var segment = path[range];
            if (IsDots(segment))
            {
                return true;
            }
        }

        return false;
    }

    // ".", "..", and their percent-encoded spellings (%2e, %2E).
    private static bool IsDots(ReadOnlySpan<char> segment)
    {
        var dots = 0;
        var i = 0;
        while (i < segment.Length)
        {
            if (segment[i] == '.')
            {
                i++;
            }
            else if (i + 2 < segment.Length && segment[i] == '%' && segment[i + 1] == '2' && (segment[i + 2] | 0x20) == 'e')
            {
                i += 3;
            }
            else
            {
                return false;
            }

            dots++;
        }

        return dots is 1 or 2;
    }
}
