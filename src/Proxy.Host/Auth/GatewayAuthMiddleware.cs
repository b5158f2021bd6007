using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Primitives;
using Proxy.Abstractions;
using Proxy.Admin.Ui;
using Proxy.Host.Routing;
using Yarp.ReverseProxy.Model;

namespace Proxy.Host.Auth;

/// <summary>
/// Checks the caller's key on every endpoint that is not marked anonymous. The key may come in any header LiteLLM
/// accepts. With no master key configured the gateway is open (a warning is logged at start-up). Besides the master
/// key it accepts virtual keys (<see cref="IVirtualKeyAuthenticator"/>): from memory, or after one store lookup for a
/// key not seen yet. Failed attempts are throttled per client address (<see cref="AuthFailureThrottle"/>), and on model
/// routes a virtual key already at its max_parallel_requests or rpm_limit is refused before its body is read.
/// </summary>
internal sealed class GatewayAuthMiddleware(RequestDelegate next, GatewayState state, IOpenAiErrorWriter errors, AuthFailureThrottle throttle,
    IVirtualKeyAuthenticator? keys = null, IAdminSessionAuthenticator? uiSessions = null)
{
    private static readonly string[] KeyHeaders = ["Authorization", "api-key", "x-api-key", "x-litellm-api-key", "x-goog-api-key", "Ocp-Apim-Subscription-Key"];

    public Task Invoke(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null || endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            return next(context);
        }

        var snapshot = state.Current;
        var masterKey = snapshot.MasterKey;
        if (!masterKey.IsConfigured)
        {
            return AdminRoutes.Contains(context.Request.Path) ? errors.WriteAsync(context, AdminRoutes.NoMasterKey()) : next(context);
        }

        var presented = PresentedKey(context.Request.Headers, snapshot.Config.GeneralSettings.LitellmKeyHeaderName);
        if (presented.IsEmpty)
        {
            // The admin UI's session cookie stands in for the master key on management routes only.
            if (uiSessions is null)
            {
                return errors.WriteAsync(context, GatewayError.NoApiKey());
            }

            return uiSessions.Check(context, out var sessionError) switch
            {
                AdminSessionCheck.Admin => AsAdmin(context),
                AdminSessionCheck.Rejected => errors.WriteAsync(context, sessionError),
                _ => errors.WriteAsync(context, GatewayError.NoApiKey()),
            };
        }

        var request = GatewayRequestContext.Get(context);
        if (masterKey.Matches(presented))
        {
            if (request is not null)
            {
                request.Authenticate(CallerIdentity.MasterKey);
            }

            return next(context);
        }

        if (keys is null || request is null)
        {
            return RefuseAsync(context, GatewayError.InvalidApiKey(Abbreviate(presented)));
        }

        return keys.Check(presented, request, out var error) switch
        {
            VirtualKeyCheck.Accepted => AdmitAsync(context, endpoint, request, keys),
            VirtualKeyCheck.Rejected => RefuseAsync(context, error),
            _ => LookupAsync(context, endpoint, presented.ToString(), request, keys),
        };
    }

    private Task AsAdmin(HttpContext context)
    {
        // The UI's session stands in for the master key (admin-only answers read this).
        GatewayRequestContext.Get(context)?.Authenticate(CallerIdentity.MasterKey);
        return next(context);
    }

    // The key is known; on a model route a key already at its limits is refused before the body is read.
    private Task AdmitAsync(HttpContext context, Endpoint endpoint, GatewayRequestContext request, IVirtualKeyAuthenticator authenticator)
    {
        if (endpoint.Metadata.GetMetadata<RouteModel>() is not null && authenticator.CheckLimitsBeforeBody(request) is { } limited)
        {
            return errors.WriteAsync(context, limited);
        }

        return next(context);
    }

    // A wrong key: counted against the client's address; once it is throttled the answer is a 429 (no oracle either).
    private Task RefuseAsync(HttpContext context, GatewayError error)
    {
        var address = context.Connection.RemoteIpAddress;
        if (throttle.RetryAfterSeconds(address) is > 0 and var wait)
        {
            return errors.WriteAsync(context, Throttled(wait));
        }

        if (error.Status == StatusCodes.Status401Unauthorized)
        {
            throttle.Failed(address);
        }

        return errors.WriteAsync(context, error);
    }

    // A key the cache has not seen: one store lookup (its answer is cached either way), at most one a second from a
    // throttled address.
    private async Task LookupAsync(HttpContext context, Endpoint endpoint, string presented, GatewayRequestContext request, IVirtualKeyAuthenticator authenticator)
    {
        var address = context.Connection.RemoteIpAddress;
        if (!throttle.TryAdmitLookup(address))
        {
            await errors.WriteAsync(context, Throttled(throttle.RetryAfterSeconds(address)));
            return;
        }

        if (await authenticator.LookupAsync(presented, request, context.RequestAborted) is { } error)
        {
            if (error.Status == StatusCodes.Status401Unauthorized)
            {
                throttle.Failed(address);
            }

            await errors.WriteAsync(context, error);
            return;
        }

        await AdmitAsync(context, endpoint, request, authenticator);
    }

    private static GatewayError Throttled(int seconds) => new(429, "throttling_error",
        $"Too many failed authentication attempts from this address. Retry in {seconds} seconds with a valid key.", null, Math.Max(1, seconds));

    internal static ReadOnlySpan<char> PresentedKey(IHeaderDictionary headers, string? customHeader)
    {
        if (customHeader is not null && headers.TryGetValue(customHeader, out var custom))
        {
            var value = Trimmed(custom);
            if (!value.IsEmpty)
            {
                return value;
            }
        }

        foreach (var name in KeyHeaders)
        {
            if (!headers.TryGetValue(name, out var values))
            {
                continue;
            }

            var value = Trimmed(values);
            if (value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                value = value["Bearer ".Length..].Trim();
            }

            if (!value.IsEmpty)
            {
                return value;
            }
        }

        return default;
    }

    private static ReadOnlySpan<char> Trimmed(StringValues values) => values.Count == 1 ? values[0].AsSpan().Trim() : default;

    // Enough to recognise which key was sent, never enough to use it.
    private static string Abbreviate(ReadOnlySpan<char> key) =>
        key.Length <= 8 ? "***" : string.Concat(key[..3], "...", key[^4..]);
}
