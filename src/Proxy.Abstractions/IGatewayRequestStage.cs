using Microsoft.AspNetCore.Http;

namespace Proxy.Abstractions;

/// <summary>
/// A step that runs once per proxied request after its body has been read and its model group resolved, and before the
/// router picks a deployment: virtual-key checks, pre_call guardrails, the cache lookup. Stages run in
/// <see cref="Order"/>; the first that answers the request ends it (nothing is routed).
/// </summary>
public interface IGatewayRequestStage
{
    /// <summary>Lower runs first. Conventions: keys and limits 100, guardrails 200, cache 300.</summary>
    int Order { get; }

    /// <summary>
    /// Returns true when the stage wrote the response itself (an error or a cached answer). It may register
    /// <see cref="IResponseTap"/>s on <paramref name="request"/> to see the upstream's answer.
    /// </summary>
    ValueTask<bool> InvokeAsync(HttpContext context, GatewayRequestContext request, ReadOnlyMemory<byte> body);
}
