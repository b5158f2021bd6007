using Microsoft.AspNetCore.Http;

namespace Proxy.Abstractions;

/// <summary>
/// Told about every request once the gateway is done with it (the response fully written, streams included): spend
/// logging, metrics and the access log read the facts gathered on <see cref="GatewayRequestContext"/>. Runs on the
/// request's thread, so it must be cheap and must not throw; slow work is queued.
/// </summary>
public interface IRequestCompletionObserver
{
    void OnCompleted(HttpContext context, GatewayRequestContext request);
}
