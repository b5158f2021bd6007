using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;

namespace Proxy.LoadBalancing.Affinity;

/// <summary>Claims session and key pins once a request has been answered, so that a pin only ever names a deployment that served.</summary>
internal sealed class SessionAffinityRecorder(SessionAffinity affinity) : IRequestCompletionObserver
{
    public int Order => ObserverOrder.Routing;

    public void OnCompleted(HttpContext context, GatewayRequestContext request) => affinity.Remember(context, request);
}
