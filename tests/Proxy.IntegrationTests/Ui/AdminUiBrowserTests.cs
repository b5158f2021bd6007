using System.Globalization;
using System.Net;
using System.Text.Json;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Ui;

/// <summary>The admin UI in a real headless Chromium, against a real gateway and the virtual-key API.</summary>
public sealed class AdminUiBrowserTests(AdminUiFixture fixture) : IClassFixture<AdminUiFixture>
{
    private GatewayInstance Gateway => fixture.Gateway;

    [Fact]
    public async Task Wrong_password_shows_the_error_and_sets_no_cookie()
    {
        await using var page = await fixture.Browser.NewPageAsync();
        await page.NavigateAsync(Gateway.RootUrl + "/ui");
        await page.WaitForAsync("location.pathname === '/ui/login' && document.querySelector('#login-form')", "the redirect to the login page");

        await page.FillAsync("#username", "admin");
        await page.FillAsync("#password", "not-the-master-key");
        await page.ClickAsync("#login-submit");

        await page.WaitForSelectorAsync("#login-error");
        Assert.Contains("Invalid username or password", await page.TextAsync("#login-error"));
        Assert.DoesNotContain(await page.CookiesAsync(), c => c.GetProperty("name").GetString() == "token");
        // The page keeps the username but never echoes the password.
        Assert.Equal("admin", (await page.EvaluateAsync("document.querySelector('#username').value")).GetString());
        Assert.Equal("", (await page.EvaluateAsync("document.querySelector('#password').value")).GetString());
    }

    [Fact]
    public async Task Login_sets_an_HttpOnly_SameSite_Strict_session_cookie_that_is_not_the_master_key()
    {
        await using var page = await LoggedInPageAsync();

        var token = Assert.Single(await page.CookiesAsync(), c => c.GetProperty("name").GetString() == "token");
        Assert.True(token.GetProperty("httpOnly").GetBoolean());
        Assert.Equal("Strict", token.GetProperty("sameSite").GetString());
        var value = token.GetProperty("value").GetString()!;
        Assert.DoesNotContain(Configs.MasterKey, value, StringComparison.Ordinal);
        Assert.DoesNotContain(Configs.MasterKey["sk-".Length..], value, StringComparison.Ordinal);
        // About 24 hours (LITELLM_UI_SESSION_DURATION's default).
        var expires = DateTimeOffset.FromUnixTimeSeconds((long)token.GetProperty("expires").GetDouble());
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromHours(23), TimeSpan.FromHours(25));
        // Scripts in the page cannot read it.
        Assert.Equal("", (await page.EvaluateAsync("document.cookie")).GetString());
        Assert.Equal("admin", await page.TextAsync("#whoami"));
    }

    [Fact]
    public async Task Key_created_in_the_UI_is_shown_once_works_and_is_blocked_regenerated_and_deleted_from_the_UI()
    {
        await using var page = await LoggedInPageAsync();
        var alias = "team-ui-" + Guid.NewGuid().ToString("N")[..6];
        var row = $"tr[data-alias=\"{alias}\"]";

        await page.ClickAsync("#create-key");
        await page.FillAsync("#key-alias", alias);
        await page.FillAsync("#key-models", "qwen3-8b");
        await page.FillAsync("#key-rpm", "100");
        await page.FillAsync("#key-max-budget", "25");
        await page.ClickAsync("#key-submit");
        await page.WaitForAsync("document.querySelector('#secret-dialog').open && document.querySelector('#new-key').textContent.startsWith('sk-')", "the new key");
        var key = (await page.TextAsync("#new-key"))!;

        // Shown once: closing the dialog forgets it, and the list shows only the abbreviated name.
        await page.ClickAsync("#secret-close");
        await page.WaitForSelectorAsync(row);
        Assert.Equal("", await page.TextAsync("#new-key"));
        Assert.DoesNotContain(key, (await page.EvaluateAsync("document.documentElement.outerHTML")).GetString(), StringComparison.Ordinal);
        Assert.Equal("sk-..." + key[^4..], await page.TextAsync(row + " code"));
        Assert.Equal("qwen3-8b", await page.TextAsync(row + " td.models"));
        var stored = (await UiGateway.AdminAsync(Gateway, HttpMethod.Get, "/key/info?key=" + key)).GetProperty("info");
        Assert.Equal(100, stored.GetProperty("rpm_limit").GetInt32());
        Assert.Equal(25, stored.GetProperty("max_budget").GetDouble());

        using (var chat = await UiGateway.ChatAsync(Gateway, key))
        {
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        }

        // Block: the key is refused at once.
        await page.ClickAsync(row + " button[data-action=block]");
        await page.WaitForAsync($"document.querySelector('{row} td[data-blocked]')?.dataset.blocked === 'true'", "the key to show as blocked");
        using (var refused = await UiGateway.ChatAsync(Gateway, key))
        {
            Assert.Contains("blocked", await ErrorAssert.IsOpenAiErrorAsync(refused, 403), StringComparison.OrdinalIgnoreCase);
        }

        await page.ClickAsync(row + " button[data-action=unblock]");
        await page.WaitForAsync($"document.querySelector('{row} td[data-blocked]')?.dataset.blocked === 'false'", "the key to show as active");

        // Regenerate (after a confirmation): a new key, shown once; the old one stops working.
        await page.ClickAsync(row + " button[data-action=regenerate]");
        await page.ClickAsync("#confirm-ok");
        await page.WaitForAsync($"document.querySelector('#secret-dialog').open && document.querySelector('#new-key').textContent.startsWith('sk-') && document.querySelector('#new-key').textContent !== {BrowserPage.Js(key)}", "the regenerated key");
        var newKey = (await page.TextAsync("#new-key"))!;
        await page.ClickAsync("#secret-close");
        using (var old = await UiGateway.ChatAsync(Gateway, key))
        {
            await ErrorAssert.IsOpenAiErrorAsync(old, 401);
        }

        using (var chat = await UiGateway.ChatAsync(Gateway, newKey))
        {
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        }

        // Delete asks first; cancelling keeps the key.
        await page.ClickAsync(row + " button[data-action=delete]");
        await page.WaitForAsync("document.querySelector('#confirm-dialog').open", "the delete confirmation");
        await page.ClickAsync("#confirm-cancel");
        await page.WaitForAsync("!document.querySelector('#confirm-dialog').open", "the confirmation to close");
        Assert.NotNull(await page.TextAsync(row + " code"));

        await page.ClickAsync(row + " button[data-action=delete]");
        await page.ClickAsync("#confirm-ok");
        await page.WaitForAsync($"!document.querySelector('{row}')", "the key to leave the list");
        using (var deleted = await UiGateway.ChatAsync(Gateway, newKey))
        {
            await ErrorAssert.IsOpenAiErrorAsync(deleted, 401);
        }
    }

    [Fact]
    public async Task Usage_and_logs_pages_show_the_spend_of_a_request()
    {
        var alias = "usage-" + Guid.NewGuid().ToString("N")[..6];
        var created = await UiGateway.AdminAsync(Gateway, HttpMethod.Post, "/key/generate", $$"""{"key_alias":"{{alias}}"}""");
        var key = created.GetProperty("key").GetString()!;
        string callId;
        using (var chat = await UiGateway.ChatAsync(Gateway, key))
        {
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
            callId = chat.Headers.GetValues("x-litellm-call-id").Single();
        }

        // Spend rows are written in batches (proxy_batch_write_at: 0.1 s).
        JsonElement logged = default;
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            var rows = await UiGateway.AdminAsync(Gateway, HttpMethod.Get, "/spend/logs?request_id=" + callId);
            if (rows.GetArrayLength() == 0)
            {
                return false;
            }

            logged = rows[0];
            return true;
        }, TimeSpan.FromSeconds(10)), "the spend-log row was never written");
        var spend = logged.GetProperty("spend").GetDouble();
        Assert.True(spend > 0, $"spend {spend}");

        await using var page = await LoggedInPageAsync();
        await page.NavigateAsync(Gateway.RootUrl + "/ui/#logs");
        var logRow = $"tr[data-request-id=\"{callId}\"]";
        await page.WaitForSelectorAsync(logRow);
        Assert.Equal(spend, Spend(await page.EvaluateAsync($"document.querySelector('{logRow} td[data-spend]').dataset.spend")));
        Assert.Equal(alias, (await page.EvaluateAsync($"document.querySelector('{logRow}').children[2].textContent")).GetString());
        Assert.Equal("qwen3-8b", (await page.EvaluateAsync($"document.querySelector('{logRow}').children[3].textContent")).GetString());
        Assert.Equal("false", (await page.EvaluateAsync($"document.querySelector('{logRow} td[data-cache-hit]').dataset.cacheHit")).GetString());

        await page.ClickAsync("nav a[data-page=usage]");
        var usageRow = $"#usage-keys tr[data-key=\"{alias}\"]";
        await page.WaitForSelectorAsync(usageRow);
        Assert.Equal(spend, Spend(await page.EvaluateAsync($"document.querySelector('{usageRow} td[data-spend]').dataset.spend")));
        Assert.True(Spend(await page.EvaluateAsync("document.querySelector('#usage-total').dataset.spend")) >= spend);
        await page.WaitForSelectorAsync("#usage-models tr[data-model=\"qwen3-8b\"]");
    }

    [Fact]
    public async Task Session_cookie_works_only_with_the_csrf_header_and_only_on_management_routes()
    {
        await using var page = await LoggedInPageAsync();

        var withoutHeader = await page.EvaluateAsync("fetch('/key/list').then(r => r.status)");
        Assert.Equal(403, withoutHeader.GetInt32());
        var postWithoutHeader = await page.EvaluateAsync(
            "fetch('/key/generate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{\"key_alias\":\"csrf-probe\"}' }).then(r => r.status)");
        Assert.Equal(403, postWithoutHeader.GetInt32());
        var withHeader = await page.EvaluateAsync("fetch('/key/list', { headers: { 'x-litellm-ui': '1' } }).then(r => r.status)");
        Assert.Equal(200, withHeader.GetInt32());
        // The session is for administration: it cannot spend tokens on the model routes.
        var chat = await page.EvaluateAsync(
            "fetch('/v1/chat/completions', { method: 'POST', headers: { 'x-litellm-ui': '1', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'qwen3-8b', messages: [{ role: 'user', content: 'hi' }] }) }).then(r => r.status)");
        Assert.Equal(401, chat.GetInt32());

        var keys = await UiGateway.AdminAsync(Gateway, HttpMethod.Get, "/key/list?key_alias=csrf-probe");
        Assert.Equal(0, keys.GetProperty("total_count").GetInt32());
    }

    [Fact]
    public async Task Sign_out_ends_the_session_even_for_a_copied_cookie()
    {
        await using var page = await LoggedInPageAsync();
        var token = Assert.Single(await page.CookiesAsync(), c => c.GetProperty("name").GetString() == "token").GetProperty("value").GetString()!;
        using (var before = await UiGateway.WithSessionAsync(Gateway, HttpMethod.Get, "/key/list", token))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        await page.ClickAsync("#logout");
        await page.WaitForAsync("location.pathname === '/ui/login' && document.querySelector('#login-form')", "the login page after sign-out");
        Assert.DoesNotContain(await page.CookiesAsync(), c => c.GetProperty("name").GetString() == "token");
        using var after = await UiGateway.WithSessionAsync(Gateway, HttpMethod.Get, "/key/list", token);
        Assert.Contains("session", await ErrorAssert.IsOpenAiErrorAsync(after, 401), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Models_page_lists_the_config_models_from_model_info()
    {
        await using var page = await LoggedInPageAsync(Gateway);
        await page.ClickAsync("nav a[data-page=models]");
        await page.WaitForAsync("document.body.dataset.loaded === 'models'", "the Models page");

        await page.WaitForAsync("[...document.querySelectorAll('#models-table tbody tr')].some(r => r.children[0].textContent === 'qwen3-8b' && r.children[1].textContent === 'hosted_vllm/Qwen/Qwen3-8B' && r.children[3].textContent === '0.5 / 0.25')", "the config model in the list");
        // STORE_MODEL_IN_DB is off here: no add button, and config models have no delete button.
        Assert.True((await page.EvaluateAsync("document.querySelector('#add-model').hidden")).GetBoolean());
        Assert.Equal(0, (await page.EvaluateAsync("document.querySelectorAll('#models-table button[data-action=delete-model]').length")).GetInt32());
    }

    [Fact]
    public async Task With_store_model_in_db_a_model_added_in_the_UI_serves_requests_until_deleted_in_the_UI()
    {
        await using var gateway = await UiGateway.StartAsync(fixture.Upstream, new() { ["STORE_MODEL_IN_DB"] = "True" });
        await using var page = await LoggedInPageAsync(gateway);
        await page.ClickAsync("nav a[data-page=models]");
        await page.ClickAsync("#add-model");
        await page.FillAsync("#model-name", "ui-added");
        await page.FillAsync("#model-model", "hosted_vllm/added-model");
        await page.FillAsync("#model-api-base", fixture.Upstream.BaseUrl);
        await page.FillAsync("#model-input-cost", "0.125");
        await page.EvaluateAsync("document.querySelector('#model-form').requestSubmit()");
        var row = "[...document.querySelectorAll('#models-table tbody tr')].find(r => r.children[0].textContent === 'ui-added')";
        await page.WaitForAsync($"{row}?.children[4].textContent === 'database'", "the added model in the list");

        using (var chat = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions",
            """{"model":"ui-added","messages":[{"role":"user","content":"hi"}],"max_tokens":2}""", Configs.MasterKey)))
        {
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        }

        await page.EvaluateAsync($"{row}.querySelector('button[data-action=delete-model]').click()");
        await page.ClickAsync("#confirm-ok");
        await page.WaitForAsync($"document.body.dataset.loaded === 'models' && !{row}", "the model to leave the list");
        using var gone = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions",
            """{"model":"ui-added","messages":[{"role":"user","content":"hi"}],"max_tokens":2}""", Configs.MasterKey));
        await ErrorAssert.IsOpenAiErrorAsync(gone, 400);
    }

    private Task<BrowserPage> LoggedInPageAsync() => LoggedInPageAsync(Gateway);

    private Task<BrowserPage> LoggedInPageAsync(GatewayInstance gateway) => UiGateway.LoggedInPageAsync(fixture.Browser, gateway);

    private static double Spend(JsonElement value) => double.Parse(value.GetString()!, CultureInfo.InvariantCulture);
}
