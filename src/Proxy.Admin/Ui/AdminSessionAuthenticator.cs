using Microsoft.AspNetCore.Http;

namespace Proxy.Admin.Ui;

/// <summary>
/// Accepts the UI's session cookie as the proxy admin on management routes only (never on model routes, so a
/// browser session cannot spend tokens), and only with the <c>x-litellm-ui: 1</c> header: a cross-site page can
/// make a browser send the cookie but cannot add a custom header without a CORS preflight, which this gateway never
/// grants. SameSite=Strict on the cookie is the second lock.
/// </summary>
internal sealed class AdminSessionAuthenticator(UiOptions options, UiSessions sessions) : IAdminSessionAuthenticator
{
    public const string CsrfHeader = "x-litellm-ui";

    // The routes the UI calls; LiteLLM's admin API lives under these prefixes.
    private static readonly string[] ManagementPrefixes =
        ["/key/", "/spend/", "/global/", "/model/", "/user/", "/team/", "/customer/", "/end_user/", "/budget/", "/organization/"];

    public AdminSessionCheck Check(HttpContext context, out GatewayError error)
    {
        error = default;
        if (!options.Enabled || !IsManagementPath(context.Request.Path) || !context.Request.Cookies.TryGetValue(UiSessions.CookieName, out var token))
        {
            return AdminSessionCheck.NotApplicable;
        }

        if (!sessions.IsValid(token, out _))
        {
            error = new GatewayError(401, "auth_error",
                "Authentication Error, the admin UI session has expired or is not valid. Log in again at /ui, or send the master key as 'Authorization: Bearer sk-...'.");
            return AdminSessionCheck.Rejected;
        }

        if (!HasCsrfProof(context.Request))
        {
            error = new GatewayError(403, "auth_error",
                $"Authentication Error, a request authenticated by the admin UI's session cookie must send the header '{CsrfHeader}: 1' from the gateway's own origin (CSRF protection). API clients send the key in 'Authorization' instead.");
            return AdminSessionCheck.Rejected;
        }

        return AdminSessionCheck.Admin;
    }

    internal static bool HasCsrfProof(HttpRequest request)
    {
        if (request.Headers[CsrfHeader] is not { Count: 1 } value || value[0] != "1")
        {
            return false;
        }

        // Browsers send Origin on every cross-origin request and on same-origin non-GET ones; it must be this host.
        var origin = request.Headers.Origin;
        if (origin.Count == 0)
        {
            return true;
        }

        return Uri.TryCreate(origin[0], UriKind.Absolute, out var uri)
            && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsManagementPath(PathString path)
    {
        var value = path.Value;
        if (value is null)
        {
            return false;
        }

        foreach (var prefix in ManagementPrefixes)
        {
            if (value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
