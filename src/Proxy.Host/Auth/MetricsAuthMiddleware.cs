using Proxy.Abstractions;
using Proxy.Host.Routing;

namespace Proxy.Host.Auth;

/// <summary>
/// <c>litellm_settings.require_auth_for_metrics_endpoint: true</c> (LiteLLM's setting): <c>/metrics</c> answers only the
/// master key, on the main port and on <c>--metrics-port</c> alike. Stricter than LiteLLM, which accepts any key: the
/// series carry every key's alias, hash and spend, which no tenant should read about another.
/// </summary>
internal sealed class MetricsAuthMiddleware(RequestDelegate next, GatewayState state, IOpenAiErrorWriter errors)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.Equals("/metrics", StringComparison.Ordinal))
        {
            return next(context);
        }

        var snapshot = state.Current;
        if (!snapshot.Config.LitellmSettings.RequireAuthForMetricsEndpoint || !snapshot.MasterKey.IsConfigured)
        {
            return next(context);
        }

        var presented = GatewayAuthMiddleware.PresentedKey(context.Request.Headers, snapshot.Config.GeneralSettings.LitellmKeyHeaderName);
        if (snapshot.MasterKey.Matches(presented))
        {
            return next(context);
        }

        return errors.WriteAsync(context, presented.IsEmpty
            ? GatewayError.NoApiKey()
            : new GatewayError(401, "auth_error", "Unauthorized access to metrics endpoint: send the master key (require_auth_for_metrics_endpoint is on)."));
    }
}
