using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Proxy.Admin.Ui;

/// <summary>
/// The admin UI's own routes: the pages and their files under /ui, LiteLLM's <c>POST /login</c>, and logout. All
/// are anonymous to the gateway's auth middleware; the session is checked here.
/// </summary>
internal sealed partial class UiEndpoints(UiOptions options, UiSessions sessions, LoginThrottle throttle, UiAssets assets,
    IMasterKeyAccess masterKey, TimeProvider time, ILogger<UiEndpoints> logger)
{
    // A username and a password fit many times over; nothing larger is read from a caller without a key.
    private const int MaxLoginBodyBytes = 16 * 1024;

    private static readonly FormOptions LoginFormOptions = new()
    {
        BufferBody = false,
        ValueCountLimit = 16,
        KeyLengthLimit = 256,
        ValueLengthLimit = MaxLoginBodyBytes,
        MultipartBodyLengthLimit = 0,
    };

    // No inline script or style, nothing from another origin, no framing: the pages need none of it.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public Task RedirectToLogin(HttpContext context) => Redirect(context, "/ui/login");

    public Task AppAsync(HttpContext context)
    {
        if (!masterKey.IsConfigured)
        {
            return WriteAssetAsync(context, assets.Get("needs-master-key.html"), StatusCodes.Status503ServiceUnavailable);
        }

        return HasSession(context) ? WriteAssetAsync(context, assets.Get("index.html")) : Redirect(context, "/ui/login");
    }

    public Task LoginPageAsync(HttpContext context)
    {
        if (!masterKey.IsConfigured)
        {
            return WriteAssetAsync(context, assets.Get("needs-master-key.html"), StatusCodes.Status503ServiceUnavailable);
        }

        return HasSession(context) ? Redirect(context, "/ui/") : WriteLoginAsync(context, StatusCodes.Status200OK, null, "");
    }

    public Task AssetAsync(HttpContext context)
    {
        var name = context.Request.RouteValues["file"] as string;
        if (name is null || name.EndsWith(".html", StringComparison.Ordinal) || assets.Find(name) is not { } asset)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        return WriteAssetAsync(context, asset);
    }

    public async Task LoginAsync(HttpContext context)
    {
        // Bounded before anything else: this route takes requests without a key.
        if (!IsUrlEncodedForm(context.Request))
        {
            await WriteLoginAsync(context, StatusCodes.Status415UnsupportedMediaType,
                "Send the login form as application/x-www-form-urlencoded (username and password).", "");
            return;
        }

        if (context.Request.ContentLength > MaxLoginBodyBytes)
        {
            await WriteLoginAsync(context, StatusCodes.Status413PayloadTooLarge, "The login form is too large.", "");
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxLoginBodyBytes;
        }

        if (!masterKey.IsConfigured)
        {
            await WriteAssetAsync(context, assets.Get("needs-master-key.html"), StatusCodes.Status503ServiceUnavailable);
            return;
        }

        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (throttle.RetryAfterSeconds(address) is > 0 and var wait)
        {
            context.Response.Headers.RetryAfter = wait.ToString(CultureInfo.InvariantCulture);
            await WriteLoginAsync(context, StatusCodes.Status429TooManyRequests,
                $"Too many failed logins from this address. Try again in {wait} s.", "");
            return;
        }

        IFormCollection form;
        try
        {
            context.Features.Set<IFormFeature>(new FormFeature(context.Request, LoginFormOptions));
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteLoginAsync(context, StatusCodes.Status413PayloadTooLarge, "The login form is too large.", "");
            return;
        }
        catch (InvalidDataException)
        {
            await WriteLoginAsync(context, StatusCodes.Status400BadRequest, "Send the login form (username and password).", "");
            return;
        }

        var username = form["username"].ToString();
        var password = form["password"].ToString();
        if (!sessions.CredentialsMatch(username, password))
        {
            throttle.Failed(address);
            Log.LoginFailed(logger, address);
            await WriteLoginAsync(context, StatusCodes.Status401Unauthorized,
                "Invalid username or password. The username is UI_USERNAME (default admin) and the password UI_PASSWORD (default: the master key).", username);
            return;
        }

        throttle.Succeeded(address);
        Log.LoginSucceeded(logger, address);
        context.Response.Cookies.Append(UiSessions.CookieName, sessions.Issue(), CookieOptions(context, sessions.Duration));
        // 303: the browser follows with a GET, so a reload of /ui never re-posts the password.
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = "/ui/";
        context.Response.Headers.CacheControl = "no-store";
    }

    private static bool IsUrlEncodedForm(HttpRequest request) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
        && type.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase);

    public Task LogoutAsync(HttpContext context)
    {
        if (!AdminSessionAuthenticator.HasCsrfProof(context.Request))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return Task.CompletedTask;
        }

        if (context.Request.Cookies.TryGetValue(UiSessions.CookieName, out var token))
        {
            sessions.Revoke(token);
        }

        context.Response.Cookies.Delete(UiSessions.CookieName, CookieOptions(context, null));
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    /// <summary>What the page needs to know about its session and the server (never a secret).</summary>
    public async Task SessionAsync(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        if (!context.Request.Cookies.TryGetValue(UiSessions.CookieName, out var token) || !sessions.IsValid(token, out var expires))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        context.Response.ContentType = "application/json";
        using (var json = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            json.WriteStartObject();
            json.WriteString("username", options.Username);
            json.WriteString("expires", DateTimeOffset.FromUnixTimeSeconds(expires).UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            json.WriteBoolean("store_model_in_db", options.StoreModelInDb);
            json.WriteEndObject();
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private bool HasSession(HttpContext context) =>
        context.Request.Cookies.TryGetValue(UiSessions.CookieName, out var token) && sessions.IsValid(token, out _);

    private CookieOptions CookieOptions(HttpContext context, TimeSpan? maxAge) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = context.Request.IsHttps,
        Path = "/",
        MaxAge = maxAge,
        Expires = maxAge is { } age ? time.GetUtcNow().Add(age) : null,
    };

    private static Task Redirect(HttpContext context, string location)
    {
        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.Headers.Location = location;
        context.Response.Headers.CacheControl = "no-store";
        return Task.CompletedTask;
    }

    private static Task WriteAssetAsync(HttpContext context, UiAsset asset, int status = StatusCodes.Status200OK)
    {
        var headers = context.Response.Headers;
        SecurityHeaders(headers);
        headers.ETag = asset.ETag;
        // Always revalidate: file names carry no version, and a 304 costs one small round trip.
        headers.CacheControl = "no-cache";
        if (status == StatusCodes.Status200OK && context.Request.Headers.IfNoneMatch is { Count: > 0 } match
            && match.ToString().Contains(asset.ETag, StringComparison.Ordinal))
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = asset.ContentType;
        context.Response.ContentLength = asset.Content.Length;
        return context.Response.Body.WriteAsync(asset.Content, context.RequestAborted).AsTask();
    }

    private Task WriteLoginAsync(HttpContext context, int status, string? error, string username)
    {
        var template = Encoding.UTF8.GetString(assets.Get("login.html").Content);
        var message = error is null ? "" : $"<p class=\"error\" role=\"alert\" id=\"login-error\">{WebUtility.HtmlEncode(error)}</p>";
        var page = template.Replace("<!--error-->", message, StringComparison.Ordinal)
            .Replace("{{username}}", WebUtility.HtmlEncode(username.Length > 0 ? username : options.Username), StringComparison.Ordinal);
        var bytes = Encoding.UTF8.GetBytes(page);
        SecurityHeaders(context.Response.Headers);
        context.Response.Headers.CacheControl = "no-store";
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.ContentLength = bytes.Length;
        return context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }

    private static void SecurityHeaders(IHeaderDictionary headers)
    {
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
    }

    private static partial class Log
    {
        [LoggerMessage(5101, LogLevel.Warning, "Admin UI: failed login from {Address}")]
        public static partial void LoginFailed(ILogger logger, string address);

        [LoggerMessage(5102, LogLevel.Information, "Admin UI: login from {Address}")]
        public static partial void LoginSucceeded(ILogger logger, string address);
    }
}
