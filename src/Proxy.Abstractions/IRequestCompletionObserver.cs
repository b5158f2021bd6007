using Microsoft.AspNetCore.Http;

namespace Proxy.Abstractions;

/// <summary>
/// Told about every request once the gateway is done with it (the response fully written, streams included): spend
/// logging, metrics and the access log read the request and its <see cref="RequestOutcome"/>. Runs on the request's
/// thread, in <see cref="Order"/>, so it must be cheap and must not throw; slow work is queued.
/// </summary>
public interface IRequestCompletionObserver
{
    /// <summary>See <see cref="ObserverOrder"/>.</summary>
    int Order { get; }

    void OnCompleted(HttpContext context, GatewayRequestContext request);
}
