using System.Globalization;
using System.Net;
using System.Text.Json;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Ui;

/// <summary>
/// The Teams, Users, Customers and Budgets pages in a real headless Chromium against a real gateway: what is done in
/// the UI is checked through the API and by real requests through the gateway.
/// </summary>
public sealed class TenantUiBrowserTests(AdminUiFixture fixture) : IClassFixture<AdminUiFixture>
{
    private GatewayInstance Gateway => fixture.Gateway;

    [Fact]
    public async Task Team_made_in_the_UI_gets_a_member_with_a_budget_and_a_key_that_spends_for_the_team()
    {
        await using var page = await UiGateway.LoggedInPageAsync(fixture.Browser, Gateway);
        var alias = "ui-team-" + Suffix();
        await page.ClickAsync("nav a[data-page=teams]");
        await page.WaitForAsync("document.body.dataset.loaded === 'teams'", "the Teams page");
        await page.ClickAsync("#create-team");
        await page.FillAsync("#form-team_alias", alias);
        await page.FillAsync("#form-max_budget", "100");
        await page.FillAsync("#form-rpm_limit", "50");
        await page.ClickAsync("#form-submit");
        await page.WaitForAsync($"document.body.dataset.loaded === 'team' && document.querySelector('#team-title').textContent === {BrowserPage.Js("Team " + alias)}", "the new team's page");
        var teamId = (await page.TextAsync("#team-id"))!;
        var team = (await UiGateway.AdminAsync(Gateway, HttpMethod.Get, "/team/info?team_id=" + teamId)).GetProperty("team_info");
        Assert.Equal(alias, team.GetProperty("team_alias").GetString());
        Assert.Equal(100, team.GetProperty("max_budget").GetDouble());
        Assert.Equal(50, team.GetProperty("rpm_limit").GetInt32());

        // A member with a role and a budget of their own in the team.
        var member = "ui-member-" + Suffix();
        var memberRow = $"#members-table tr[data-user-id=\"{member}\"]";
        await page.ClickAsync("#add-member");
        await page.FillAsync("#form-user_id", member);
        await page.FillAsync("#form-role", "admin");
        await page.FillAsync("#form-max_budget_in_team", "5");
        await page.ClickAsync("#form-submit");
        await page.WaitForAsync($"document.querySelector('{memberRow} td[data-role]')?.dataset.role === 'admin' && document.querySelector('{memberRow} td[data-budget]').dataset.budget === '5'", "the member in the list");
        var info = await UiGateway.AdminAsync(Gateway, HttpMethod.Get, "/team/info?team_id=" + teamId);
        Assert.Equal(5, Membership(info, member).GetProperty("litellm_budget_table").GetProperty("max_budget").GetDouble());
        Assert.Equal("admin", Role(info, member));

        // Edit: another role and budget.
        await page.ClickAsync(memberRow + " button[data-action=edit-member]");
        await page.FillAsync("#form-role", "user");
        await page.FillAsync("#form-max_budget_in_team", "7.5");
        await page.ClickAsync("#form-submit");
        await page.WaitForAsync($"document.querySelector('{memberRow} td[data-role]')?.dataset.role === 'user' && document.querySelector('{memberRow} td[data-budget]').dataset.budget === '7.5'", "the edited member");
        info = await UiGateway.AdminAsync(Gateway, HttpMethod.Get, "/team/info?team_id=" + teamId);
        Assert.Equal(7.5, Membership(info, member).GetProperty("litellm_budget_table").GetProperty("max_budget").GetDouble());
        Assert.Equal("user", Role(info, member));

        // A key for the team, from its page; it is listed there and its requests spend the team's budget.
        var keyAlias = "ui-team-key-" + Suffix();
        await page.ClickAsync("#create-team-key");
        await page.FillAsync("#key-alias", keyAlias);
        await page.ClickAsync("#key-submit");
        await page.WaitForAsync("document.querySelector('#secret-dialog').open && document.querySelector('#new-key').textContent.startsWith('sk-')", "the new team key");
        var key = (await page.TextAsync("#new-key"))!;
        await page.ClickAsync("#secret-close");
        await page.WaitForSelectorAsync($"#team-keys-table tr[data-alias=\"{keyAlias}\"]");
        Assert.Equal(teamId, (await UiGateway.AdminAsync(Gateway, HttpMethod.Get, "/key/info?key=" + key)).GetProperty("info").GetProperty("team_id").GetString());
        using (var chat = await UiGateway.ChatAsync(Gateway, key))
        {
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        }

        var spent = (await UiGateway.AdminAsync(Gateway, HttpMethod.Get, "/team/info?team_id=" + teamId)).GetProperty("team_info").GetProperty("spend").GetDouble();
        Assert.True(spent > 0);
        await page.ClickAsync("#refresh-team");
        await page.WaitForAsync("document.body.dataset.loaded === 'team'", "the team page again");
        Assert.Equal(spent, Number(await page.EvaluateAsync("document.querySelector('#team-spend').dataset.spend")), 9);
        Assert.Equal(spent, Number(await page.EvaluateAsync($"document.querySelector('#team-keys-table tr[data-alias=\"{keyAlias}\"] td[data-spend]').dataset.spend")), 9);

        // Block from the team's page: the team's key is refused until it is unblocked.
        await page.ClickAsync("#team-block");
        await page.WaitForAsync("document.querySelector('#team-status').dataset.blocked === 'true'", "the team to show as blocked");
        using (var refused = await UiGateway.ChatAsync(Gateway, key))
        {
            Assert.Contains($"Team={teamId} is blocked", await ErrorAssert.IsOpenAiErrorAsync(refused, 403), StringComparison.Ordinal);
        }

        await page.ClickAsync("#team-block");
        await page.WaitForAsync("document.querySelector('#team-status').dataset.blocked === 'false'", "the team to show as active");
        using (var again = await UiGateway.ChatAsync(Gateway, key))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        // Remove the member (after a confirmation).
        await page.ClickAsync(memberRow + " button[data-action=remove-member]");
        await page.ClickAsync("#confirm-ok");
        await page.WaitForAsync($"document.body.dataset.loaded === 'team' && !document.querySelector('{memberRow}')", "the member to leave the list");
        info = await UiGateway.AdminAsync(Gateway, HttpMethod.Get, "/team/info?team_id=" + teamId);
        Assert.DoesNotContain(info.GetProperty("team_info").GetProperty("members_with_roles").EnumerateArray(), m => m.GetProperty("user_id").GetString() == member);

        // The list shows the team with its spend; Delete asks first and takes the team's keys with it.
        await page.ClickAsync("#back-to-teams");
        var teamRow = $"#teams-table tr[data-team-id=\"{teamId}\"]";
        await page.WaitForSelectorAsync(teamRow);
        spent = (await UiGateway.AdminAsync(Gateway, HttpMethod.Get, "/team/info?team_id=" + teamId)).GetProperty("team_info").GetProperty("spend").GetDouble();
        Assert.Equal(spent, Number(await page.EvaluateAsync($"document.querySelector('{teamRow} td[data-spend]').dataset.spend")), 9);
        await page.ClickAsync(teamRow + " button[data-action=delete]");
        await page.ClickAsync("#confirm-ok");
        await page.WaitForAsync($"document.body.dataset.loaded === 'teams' && !document.querySelector('{teamRow}')", "the team to leave the list");
        using var deletedKey = await UiGateway.ChatAsync(Gateway, key);
        await ErrorAssert.IsOpenAiErrorAsync(deletedKey, 401);
    }

    [Fact]
    public async Task Customer_seen_in_a_request_is_blocked_and_unblocked_from_the_UI()
    {
        var customer = "ui-customer-" + Suffix();
        var key = await KeyAsync();
        using (var first = await UiGateway.ChatAsync(Gateway, key, customer))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        await using var page = await UiGateway.LoggedInPageAsync(fixture.Browser, Gateway);
        await page.ClickAsync("nav a[data-page=customers]");
        var row = $"#customers-table tr[data-customer-id=\"{customer}\"]";
        await page.WaitForSelectorAsync(row);
        var spend = (await UiGateway.AdminAsync(Gateway, HttpMethod.Get, "/customer/info?end_user_id=" + customer)).GetProperty("spend").GetDouble();
        Assert.True(spend > 0);
        Assert.Equal(spend, Number(await page.EvaluateAsync($"document.querySelector('{row} td[data-spend]').dataset.spend")), 9);

        await page.ClickAsync(row + " button[data-action=block]");
        await page.WaitForAsync($"document.querySelector('{row} td[data-blocked]')?.dataset.blocked === 'true'", "the customer to show as blocked");
        Assert.True((await UiGateway.AdminAsync(Gateway, HttpMethod.Get, "/customer/info?end_user_id=" + customer)).GetProperty("blocked").GetBoolean());
        using (var refused = await UiGateway.ChatAsync(Gateway, key, customer))
        {
            Assert.Contains($"End User={customer} is blocked", await ErrorAssert.IsOpenAiErrorAsync(refused, 403), StringComparison.Ordinal);
        }

        // Another customer on the same key is not affected.
        using (var other = await UiGateway.ChatAsync(Gateway, key, customer + "-other"))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }

        await page.ClickAsync(row + " button[data-action=unblock]");
        await page.WaitForAsync($"document.querySelector('{row} td[data-blocked]')?.dataset.blocked === 'false'", "the customer to show as active");
        using var allowed = await UiGateway.ChatAsync(Gateway, key, customer);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task Budget_tier_made_in_the_UI_holds_a_customer_made_on_it_in_the_UI()
    {
        var tier = "ui-tier-" + Suffix();
        await using var page = await UiGateway.LoggedInPageAsync(fixture.Browser, Gateway);
        await page.ClickAsync("nav a[data-page=budgets]");
        await page.WaitForAsync("document.body.dataset.loaded === 'budgets'", "the Budgets page");
        await page.ClickAsync("#create-budget");
        await page.FillAsync("#form-budget_id", tier);
        await page.FillAsync("#form-max_budget", "1");
        await page.FillAsync("#form-budget_duration", "30d");
        await page.FillAsync("#form-rpm_limit", "100");
        await page.ClickAsync("#form-submit");
        var budgetRow = $"#budgets-table tr[data-budget-id=\"{tier}\"]";
        await page.WaitForAsync($"document.querySelector('{budgetRow} td[data-max-budget]')?.dataset.maxBudget === '1'", "the new tier in the list");
        var stored = (await UiGateway.AdminAsync(Gateway, HttpMethod.Get, "/budget/info?budget_id=" + tier))[0];
        Assert.Equal(1, stored.GetProperty("max_budget").GetDouble());
        Assert.Equal("30d", stored.GetProperty("budget_duration").GetString());
        Assert.Equal(100, stored.GetProperty("rpm_limit").GetInt32());

        // A customer on the tier, made on the Customers page.
        var customer = "ui-tier-customer-" + Suffix();
        await page.ClickAsync("nav a[data-page=customers]");
        await page.WaitForAsync("document.body.dataset.loaded === 'customers'", "the Customers page");
        await page.ClickAsync("#create-customer");
        await page.FillAsync("#form-user_id", customer);
        await page.FillAsync("#form-alias", "Tier customer");
        await page.FillAsync("#form-budget_id", tier);
        await page.ClickAsync("#form-submit");
        var customerRow = $"#customers-table tr[data-customer-id=\"{customer}\"]";
        await page.WaitForAsync($"document.querySelector('{customerRow}')?.children[2].textContent === {BrowserPage.Js(tier)}", "the customer on its tier");
        Assert.Equal(tier, (await UiGateway.AdminAsync(Gateway, HttpMethod.Get, "/customer/info?end_user_id=" + customer)).GetProperty("budget_id").GetString());

        // One request costs more than the tier's $1 (the test model's prices are high): the second is refused.
        var key = await KeyAsync();
        using (var first = await UiGateway.ChatAsync(Gateway, key, customer))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using (var refused = await UiGateway.ChatAsync(Gateway, key, customer))
        {
            Assert.StartsWith($"ExceededBudget: End User={customer} over budget.", await ErrorAssert.IsOpenAiErrorAsync(refused, 400), StringComparison.Ordinal);
        }

        await page.ClickAsync("nav a[data-page=budgets]");
        await page.WaitForAsync($"document.body.dataset.loaded === 'budgets' && document.querySelector('{budgetRow}').children[6].textContent === '1'", "the tier's customer count");
    }

    [Fact]
    public async Task User_made_in_the_UI_gets_a_key_shown_once_and_a_budget_edited_in_the_UI()
    {
        var user = "ui-user-" + Suffix();
        await using var page = await UiGateway.LoggedInPageAsync(fixture.Browser, Gateway);
        await page.ClickAsync("nav a[data-page=users]");
        await page.WaitForAsync("document.body.dataset.loaded === 'users'", "the Users page");
        await page.ClickAsync("#create-user");
        await page.FillAsync("#form-user_id", user);
        await page.FillAsync("#form-user_email", user + "@example.com");
        await page.FillAsync("#form-max_budget", "1000");
        await page.ClickAsync("#form-auto_create_key");
        await page.ClickAsync("#form-submit");
        await page.WaitForAsync("document.querySelector('#secret-dialog').open && document.querySelector('#new-key').textContent.startsWith('sk-')", "the user's new key");
        var key = (await page.TextAsync("#new-key"))!;
        await page.ClickAsync("#secret-close");
        var row = $"#users-table tr[data-user-id=\"{user}\"]";
        await page.WaitForSelectorAsync(row);
        using (var chat = await UiGateway.ChatAsync(Gateway, key))
        {
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        }

        // A budget of 0 stops the user's key (outside a team, the user's own budget applies).
        await page.ClickAsync(row + " button[data-action=edit]");
        Assert.Equal("true", (await page.EvaluateAsync("String(document.querySelector('#form-user_id').disabled)")).GetString());
        await page.FillAsync("#form-max_budget", "0");
        await page.ClickAsync("#form-submit");
        await page.WaitForAsync($"document.body.dataset.loaded === 'users' && document.querySelector('{row}').children[5].textContent.startsWith('$0')", "the edited budget");
        var info = (await UiGateway.AdminAsync(Gateway, HttpMethod.Get, "/user/info?user_id=" + user)).GetProperty("user_info");
        Assert.Equal(0, info.GetProperty("max_budget").GetDouble());
        Assert.Equal(user + "@example.com", info.GetProperty("user_email").GetString());
        using var refused = await UiGateway.ChatAsync(Gateway, key);
        await ErrorAssert.IsOpenAiErrorAsync(refused, 400);
    }

    [Fact]
    public async Task Names_with_markup_are_shown_as_text_on_every_tenant_page()
    {
        const string Markup = "<img src=x id=xss-probe onerror=\"window.__xss=1\"><b id=xss-bold>";
        var suffix = Suffix();
        var team = (await UiGateway.AdminAsync(Gateway, HttpMethod.Post, "/team/new", Json(new { team_alias = Markup + suffix }))).GetProperty("team_id").GetString()!;
        await UiGateway.AdminAsync(Gateway, HttpMethod.Post, "/team/member_add", Json(new { team_id = team, member = new { role = "user", user_id = Markup + "member" + suffix } }));
        await UiGateway.AdminAsync(Gateway, HttpMethod.Post, "/key/generate", Json(new { team_id = team, key_alias = Markup + "key" + suffix }));
        await UiGateway.AdminAsync(Gateway, HttpMethod.Post, "/budget/new", Json(new { budget_id = Markup + "tier" + suffix, max_budget = 10 }));
        await UiGateway.AdminAsync(Gateway, HttpMethod.Post, "/customer/new", Json(new { user_id = Markup + "customer" + suffix, alias = Markup + "alias" + suffix }));
        await UiGateway.AdminAsync(Gateway, HttpMethod.Post, "/user/new", Json(new { user_id = Markup + "user" + suffix, user_email = Markup + "mail" + suffix, auto_create_key = false }));

        await using var page = await UiGateway.LoggedInPageAsync(fixture.Browser, Gateway);
        (string Hash, string Page, string Expected)[] visits =
        [
            ("teams", "teams", Markup + suffix),
            ("team/" + Uri.EscapeDataString(team), "team", Markup + "member" + suffix),
            ("team/" + Uri.EscapeDataString(team), "team", Markup + "key" + suffix),
            ("users", "users", Markup + "mail" + suffix),
            ("customers", "customers", Markup + "alias" + suffix),
            ("budgets", "budgets", Markup + "tier" + suffix),
        ];
        foreach (var (hash, name, expected) in visits)
        {
            await page.NavigateAsync(Gateway.RootUrl + "/ui/#" + hash);
            await page.WaitForAsync($"document.body.dataset.loaded === '{name}'", "the " + name + " page");
            // The name is there as characters, and nothing it spells became an element.
            Assert.True((await page.EvaluateAsync($"[...document.querySelectorAll('#page-{name} td, #page-{name} td *')].some(e => e.textContent === {BrowserPage.Js(expected)})")).GetBoolean(),
                $"{expected} not shown as text on #{hash}");
            Assert.Equal(0, (await page.EvaluateAsync("document.querySelectorAll('#xss-probe, #xss-bold, main img').length")).GetInt32());
            Assert.Equal("undefined", (await page.EvaluateAsync("typeof window.__xss")).GetString());
        }

        await page.NavigateAsync(Gateway.RootUrl + "/ui/#team/" + Uri.EscapeDataString(team));
        await page.WaitForAsync("document.body.dataset.loaded === 'team'", "the team page");
        Assert.Equal("Team " + Markup + suffix, await page.TextAsync("#team-title"));
    }

    [Fact]
    public async Task Usage_charts_draw_spend_and_requests_per_day_by_team_key_and_model_group_from_real_requests()
    {
        // A gateway of its own: the charts draw the seven largest series, so other tests' spend must not crowd these out.
        var secondModel = $"""
              - model_name: second-model
                litellm_params:
                  model: hosted_vllm/second
                  api_base: {fixture.Upstream.BaseUrl}
                  input_cost_per_token: 0.125
                  output_cost_per_token: 1
            router_settings:
            """;
        await using var gateway = await GatewayInstance.StartAsync(UiGateway.Config(fixture.Upstream.BaseUrl).Replace("router_settings:", secondModel, StringComparison.Ordinal));
        const string Markup = "<img id=xss-chart src=x>";
        var red = (await UiGateway.AdminAsync(gateway, HttpMethod.Post, "/team/new", """{"team_alias":"Red team"}""")).GetProperty("team_id").GetString()!;
        var blue = (await UiGateway.AdminAsync(gateway, HttpMethod.Post, "/team/new", Json(new { team_alias = Markup + "Blue" }))).GetProperty("team_id").GetString()!;
        var redKey = (await UiGateway.AdminAsync(gateway, HttpMethod.Post, "/key/generate", Json(new { team_id = red, key_alias = "red-key" }))).GetProperty("key").GetString()!;
        var blueKey = (await UiGateway.AdminAsync(gateway, HttpMethod.Post, "/key/generate", Json(new { team_id = blue, key_alias = Markup + "blue-key" }))).GetProperty("key").GetString()!;
        var soloKey = (await UiGateway.AdminAsync(gateway, HttpMethod.Post, "/key/generate", """{"key_alias":"solo-key"}""")).GetProperty("key").GetString()!;
        var redCost = await CostAsync(gateway, redKey, "qwen3-8b") + await CostAsync(gateway, redKey, "second-model") + await CostAsync(gateway, redKey, "qwen3-8b");
        var blueCost = await CostAsync(gateway, blueKey, "second-model");
        var soloCost = await CostAsync(gateway, soloKey, "qwen3-8b");
        Assert.True(await Eventually.TrueAsync(async () => (await UiGateway.AdminAsync(gateway, HttpMethod.Get, "/spend/logs")).GetArrayLength() == 5, TimeSpan.FromSeconds(10)),
            "the spend-log rows were never written");
        var perModel = await UiGateway.AdminAsync(gateway, HttpMethod.Get, "/global/spend/models");
        double ModelSpend(string name) => perModel.EnumerateArray().Single(m => m.GetProperty("model").GetString() == name).GetProperty("total_spend").GetDouble();

        await using var page = await UiGateway.LoggedInPageAsync(fixture.Browser, gateway);
        await page.ClickAsync("nav a[data-page=usage]");
        await page.WaitForAsync("document.querySelector('#page-usage').dataset.charts === 'spend:30'", "the spend charts");
        Assert.Equal(redCost, await BarsAsync(page, "chart-teams", "Red team"), 9);
        Assert.Equal(blueCost, await BarsAsync(page, "chart-teams", Markup + "Blue"), 9);
        Assert.Equal(redCost, await TotalCellAsync(page, "chart-teams", "Red team"), 9);
        Assert.Equal(redCost + blueCost, await TotalCellAsync(page, "chart-teams", "Total"), 9);
        Assert.Equal(redCost, await BarsAsync(page, "chart-keys", "red-key"), 9);
        Assert.Equal(blueCost, await TotalCellAsync(page, "chart-keys", Markup + "blue-key"), 9);
        Assert.Equal(soloCost, await TotalCellAsync(page, "chart-keys", "solo-key"), 9);
        Assert.Equal(redCost + blueCost + soloCost, await TotalCellAsync(page, "chart-keys", "Total"), 9);
        Assert.Equal(ModelSpend("qwen3-8b"), await BarsAsync(page, "chart-models", "qwen3-8b"), 9);
        Assert.Equal(ModelSpend("second-model"), await TotalCellAsync(page, "chart-models", "second-model"), 9);
        // The legend names each series once; markup in a name stayed text.
        Assert.Equal(2, (await page.EvaluateAsync("document.querySelectorAll('#chart-teams .legend li').length")).GetInt32());
        Assert.Equal(0, (await page.EvaluateAsync("document.querySelectorAll('#xss-chart, main img').length")).GetInt32());

        // The numbers stand right-aligned under their headers: in each number column, the text of every cell ends
        // where the header's text ends (measured on the rendered text, not the cell boxes, which always line up).
        var misaligned = await page.EvaluateAsync("""
            (() => {
              const textRight = (cell) => { const range = document.createRange(); range.selectNodeContents(cell); return range.getBoundingClientRect().right; };
              return [...document.querySelectorAll('#page-usage table')].flatMap(t => [...t.querySelectorAll('thead th.num')].flatMap(th => {
                const column = th.cellIndex, right = textRight(th);
                return [...t.querySelectorAll('tbody tr, tfoot tr')].map(r => r.cells[column])
                  .filter(c => c && Math.abs(textRight(c) - right) > 1)
                  .map(c => th.textContent + ': ' + c.textContent);
              })).join('; ');
            })()
            """);
        Assert.Equal("", misaligned.GetString());
        Assert.True((await page.EvaluateAsync("document.querySelectorAll('#page-usage thead th.num').length")).GetInt32() >= 10);

        // Requests instead of spend.
        await page.FillAsync("#usage-metric", "api_requests");
        await page.WaitForAsync("document.querySelector('#page-usage').dataset.charts === 'api_requests:30'", "the request charts");
        Assert.Equal(3, await BarsAsync(page, "chart-teams", "Red team"));
        Assert.Equal(1, await TotalCellAsync(page, "chart-teams", Markup + "Blue"));
        Assert.Equal(3, await TotalCellAsync(page, "chart-keys", "red-key"));
        Assert.Equal(3, await TotalCellAsync(page, "chart-models", "qwen3-8b"));
        Assert.Equal(2, await TotalCellAsync(page, "chart-models", "second-model"));
        Assert.Equal(5, await TotalCellAsync(page, "chart-models", "Total"));
    }

    private async Task<string> KeyAsync() =>
        (await UiGateway.AdminAsync(Gateway, HttpMethod.Post, "/key/generate", "{}")).GetProperty("key").GetString()!;

    private static async Task<double> CostAsync(GatewayInstance gateway, string key, string model)
    {
        using var response = await UiGateway.ChatAsync(gateway, key, model: model);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return double.Parse(response.Headers.GetValues("x-litellm-response-cost").Single(), CultureInfo.InvariantCulture);
    }

    /// <summary>The sum of a series' bars in a chart (each bar carries its number in data-value).</summary>
    private static async Task<double> BarsAsync(BrowserPage page, string chart, string series) =>
        (await page.EvaluateAsync($"[...document.querySelectorAll('#{chart} rect')].filter(r => r.dataset.series === {BrowserPage.Js(series)}).reduce((s, r) => s + Number(r.dataset.value), 0)")).GetDouble();

    /// <summary>A series' total in the table under a chart (its footer row).</summary>
    private static async Task<double> TotalCellAsync(BrowserPage page, string chart, string series) =>
        (await page.EvaluateAsync($"Number([...document.querySelectorAll('#{chart} tfoot td')].find(c => c.dataset.series === {BrowserPage.Js(series)})?.dataset.value ?? -1)")).GetDouble();

    private static JsonElement Membership(JsonElement info, string userId) =>
        info.GetProperty("team_memberships").EnumerateArray().Single(m => m.GetProperty("user_id").GetString() == userId);

    private static string? Role(JsonElement info, string userId) => info.GetProperty("team_info").GetProperty("members_with_roles").EnumerateArray()
        .Single(m => m.GetProperty("user_id").GetString() == userId).GetProperty("role").GetString();

    private static string Json<T>(T value) => JsonSerializer.Serialize(value);

    private static string Suffix() => Guid.NewGuid().ToString("N")[..6];

    private static double Number(JsonElement value) => double.Parse(value.GetString()!, CultureInfo.InvariantCulture);
}
