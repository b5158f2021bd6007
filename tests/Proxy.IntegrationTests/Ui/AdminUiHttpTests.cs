using System.Net;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Ui;

/// <summary>The UI's server side over plain HTTP: switches, headers, the login throttle and session expiry.</summary>
public sealed class AdminUiHttpTests : IAsyncLifetime
{
    private FakeUpstreamServer _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeUpstreamServer.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task Disable_admin_ui_removes_the_ui_and_the_login()
    {
        await using var gateway = await UiGateway.StartAsync(_upstream, new() { ["DISABLE_ADMIN_UI"] = "True" });

        using var ui = await gateway.Http.GetAsync("/ui");
        Assert.Equal(HttpStatusCode.NotFound, ui.StatusCode);
        using var asset = await gateway.Http.GetAsync("/ui/assets/app.js");
        Assert.Equal(HttpStatusCode.NotFound, asset.StatusCode);
        using var login = await UiGateway.LoginAsync(gateway, "admin", Configs.MasterKey);
        Assert.Equal(HttpStatusCode.NotFound, login.StatusCode);
    }

    [Fact]
    public async Task Without_a_master_key_the_ui_says_it_needs_one()
    {
        await using var gateway = await UiGateway.StartAsync(_upstream, masterKey: false);

        using var ui = await gateway.Http.GetAsync("/ui/");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ui.StatusCode);
        Assert.Contains("needs a master key", await ui.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var login = await UiGateway.LoginAsync(gateway, "admin", "");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, login.StatusCode);
        Assert.False(login.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task Ui_files_come_from_memory_with_an_etag_strict_csp_and_nothing_from_other_origins()
    {
        await using var gateway = await UiGateway.StartAsync(_upstream);

        foreach (var file in (string[])["app.js", "forms.js", "charts.js", "tenants.js", "app.css"])
        {
            using var first = await gateway.Http.GetAsync("/ui/assets/" + file);
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            var etag = first.Headers.ETag;
            Assert.NotNull(etag);
            Assert.Equal("no-cache", first.Headers.CacheControl?.ToString());
            Assert.Contains("default-src 'none'", first.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            Assert.Equal("nosniff", first.Headers.GetValues("X-Content-Type-Options").Single());
            // The SVG namespace is the one URL-shaped string: an XML identifier the charts need, never fetched.
            var text = (await first.Content.ReadAsStringAsync()).Replace("'http://www.w3.org/2000/svg'", "", StringComparison.Ordinal);
            Assert.DoesNotContain("http://", text, StringComparison.Ordinal);
            Assert.DoesNotContain("https://", text, StringComparison.Ordinal);

            using var again = new HttpRequestMessage(HttpMethod.Get, "/ui/assets/" + file);
            again.Headers.IfNoneMatch.Add(etag);
            using var notModified = await gateway.Http.SendAsync(again);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        }

        using var page = await gateway.Http.GetAsync("/ui/login");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("action=\"/login\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http", html.Replace("http-equiv", "", StringComparison.Ordinal), StringComparison.Ordinal);
        using var missing = await gateway.Http.GetAsync("/ui/assets/index.html");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Ui_password_replaces_the_master_key_and_login_redirects_with_a_strict_cookie()
    {
        await using var gateway = await UiGateway.StartAsync(_upstream, new() { ["UI_USERNAME"] = "root", ["UI_PASSWORD"] = "Magedu-Com" });

        using (var masterKey = await UiGateway.LoginAsync(gateway, "root", Configs.MasterKey))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, masterKey.StatusCode);
            Assert.False(masterKey.Headers.Contains("Set-Cookie"));
        }

        using (var wrongUser = await UiGateway.LoginAsync(gateway, "admin", "Magedu-Com"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrongUser.StatusCode);
        }

        using var login = await UiGateway.LoginAsync(gateway, "root", "Magedu-Com");
        Assert.Equal(HttpStatusCode.SeeOther, login.StatusCode);
        Assert.Equal("/ui/", login.Headers.Location?.ToString());
        var cookie = login.Headers.GetValues("Set-Cookie").Single();
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("max-age=86400", cookie, StringComparison.OrdinalIgnoreCase);
        var token = UiGateway.SessionToken(login);
        Assert.DoesNotContain("Magedu-Com", token, StringComparison.Ordinal);

        using var keys = await UiGateway.WithSessionAsync(gateway, HttpMethod.Get, "/key/list", token);
        Assert.Equal(HttpStatusCode.OK, keys.StatusCode);
        using var app = await UiGateway.WithSessionAsync(gateway, HttpMethod.Get, "/ui/", token);
        Assert.Equal(HttpStatusCode.OK, app.StatusCode);
        using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(gateway.RootUrl) };
        using var anonymous = await noRedirects.GetAsync("/ui/");
        Assert.Equal(HttpStatusCode.Found, anonymous.StatusCode);
        Assert.Equal("/ui/login", anonymous.Headers.Location?.ToString());
    }

    [Fact]
    public async Task Failed_logins_are_throttled_per_address()
    {
        await using var gateway = await UiGateway.StartAsync(_upstream);

        for (var i = 0; i < 5; i++)
        {
            using var wrong = await UiGateway.LoginAsync(gateway, "admin", "guess-" + i);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        // Even the right password waits now: a guesser cannot tell a hit from a miss.
        using var throttled = await UiGateway.LoginAsync(gateway, "admin", Configs.MasterKey);
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.InRange(int.Parse(throttled.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 60);
        Assert.False(throttled.Headers.Contains("Set-Cookie"));
        Assert.Contains("Too many failed logins", await throttled.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forged_tampered_and_expired_session_tokens_are_refused()
    {
        await using var gateway = await UiGateway.StartAsync(_upstream, new() { ["LITELLM_UI_SESSION_DURATION"] = "2s" });
        using var login = await UiGateway.LoginAsync(gateway, "admin", Configs.MasterKey);
        var token = UiGateway.SessionToken(login);
        using (var valid = await UiGateway.WithSessionAsync(gateway, HttpMethod.Get, "/key/list", token))
        {
            Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        }

        // A later expiry with the old signature, a flipped signature character, and the master key itself.
        var parts = token.Split('.');
        var extended = string.Join('.', (long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) + 3600).ToString(System.Globalization.CultureInfo.InvariantCulture), parts[1], parts[2]);
        // The signature's first character: all six of its bits count (the last one's low bits are base64 padding, so
        // changing it can leave the decoded signature the same).
        var signature = parts[^1];
        var flipped = string.Join('.', parts[..^1]) + "." + (signature[0] == 'A' ? 'B' : 'A') + signature[1..];
        foreach (var forged in (string[])[extended, flipped, Configs.MasterKey, "garbage"])
        {
            using var refused = await UiGateway.WithSessionAsync(gateway, HttpMethod.Get, "/key/list", forged);
            await ErrorAssert.IsOpenAiErrorAsync(refused, 401);
        }

        Assert.True(await Eventually.TrueAsync(async () =>
        {
            using var expired = await UiGateway.WithSessionAsync(gateway, HttpMethod.Get, "/key/list", token);
            return expired.StatusCode == HttpStatusCode.Unauthorized;
        }, TimeSpan.FromSeconds(6)), "the 2 s session never expired");
    }

    [Fact]
    public async Task Session_cookie_from_another_origin_or_without_the_header_is_refused()
    {
        await using var gateway = await UiGateway.StartAsync(_upstream);
        using var login = await UiGateway.LoginAsync(gateway, "admin", Configs.MasterKey);
        var token = UiGateway.SessionToken(login);

        using (var noHeader = await UiGateway.WithSessionAsync(gateway, HttpMethod.Post, "/key/generate", token, csrfHeader: false, json: "{}"))
        {
            Assert.Contains("x-litellm-ui", await ErrorAssert.IsOpenAiErrorAsync(noHeader, 403), StringComparison.Ordinal);
        }

        using var client = new HttpClient { BaseAddress = new Uri(gateway.RootUrl) };
        using var crossSite = new HttpRequestMessage(HttpMethod.Post, "/key/generate") { Content = new StringContent("{}") };
        crossSite.Headers.Add("Cookie", "token=" + token);
        crossSite.Headers.Add("x-litellm-ui", "1");
        crossSite.Headers.Add("Origin", "http://evil.example");
        using var refused = await client.SendAsync(crossSite);
        await ErrorAssert.IsOpenAiErrorAsync(refused, 403);
        var keys = await UiGateway.AdminAsync(gateway, HttpMethod.Get, "/key/list");
        Assert.Equal(0, keys.GetProperty("total_count").GetInt32());
    }
}
