using System.Globalization;
using System.Net;
using System.Text.Json;
using Proxy.IntegrationTests.Infrastructure;
using Proxy.IntegrationTests.Keys;

namespace Proxy.IntegrationTests.Tenants;

/// <summary>
/// Teams, members, customers, per-model key budgets and the proxy budget enforced on real requests. Every request
/// through <see cref="KeysGateway"/> costs a few dollars (its prices are high on purpose), so a budget of 1 is spent by
/// one request. Run on the embedded store and on PostgreSQL (the subclasses).
/// </summary>
public abstract class TenantBudgetTests : IAsyncLifetime
{
    private KeysGateway _gateway = null!;

    protected abstract Task<string?> DatabaseAsync();

    protected virtual string ExtraGeneral => "";

    protected KeysGateway Gateway => _gateway;

    public async Task InitializeAsync() => _gateway = await KeysGateway.StartAsync(await DatabaseAsync(), ExtraGeneral);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private async Task<string> TeamAsync(string json)
    {
        var team = await _gateway.AdminOkAsync(HttpMethod.Post, "/team/new", json);
        return team.GetProperty("team_id").GetString()!;
    }

    [Fact]
    public async Task A_team_budget_refuses_the_second_key_of_the_team_once_the_first_spent_it()
    {
        var teamId = await TeamAsync("""{"team_alias":"QA Prod Bot","max_budget":1,"budget_duration":"1d"}""");
        var (first, _) = await _gateway.GenerateAsync($$"""{"team_id":"{{teamId}}"}""");
        var (second, _) = await _gateway.GenerateAsync($$"""{"team_id":"{{teamId}}"}""");
        var (outsider, _) = await _gateway.GenerateAsync();

        using (var spent = await _gateway.ChatAsync(first))
        {
            Assert.Equal(HttpStatusCode.OK, spent.StatusCode);
        }

        using (var refused = await _gateway.ChatAsync(second))
        {
            var message = await ErrorAssert.IsOpenAiErrorAsync(refused, 400);
            Assert.StartsWith($"Budget has been exceeded! Team={teamId} Current cost: ", message, StringComparison.Ordinal);
        }

        using (var other = await _gateway.ChatAsync(outsider))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }

        var info = await _gateway.AdminOkAsync(HttpMethod.Get, "/team/info?team_id=" + teamId);
        Assert.True(info.GetProperty("team_info").GetProperty("spend").GetDouble() > 1);
        Assert.Equal(2, info.GetProperty("keys").GetArrayLength());
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task A_member_budget_refuses_one_member_and_not_the_other()
    {
        var teamId = await TeamAsync("""{"team_alias":"members"}""");
        await _gateway.AdminOkAsync(HttpMethod.Post, "/team/member_add",
            $$"""{"team_id":"{{teamId}}","member":{"role":"user","user_id":"capped"},"max_budget_in_team":1}""");
        await _gateway.AdminOkAsync(HttpMethod.Post, "/team/member_add", $$"""{"team_id":"{{teamId}}","member":[{"role":"admin","user_id":"free"}]}""");
        var (capped, _) = await _gateway.GenerateAsync($$"""{"team_id":"{{teamId}}","user_id":"capped"}""");
        var (free, _) = await _gateway.GenerateAsync($$"""{"team_id":"{{teamId}}","user_id":"free"}""");

        for (var i = 0; i < 2; i++)
        {
            using var ok = await _gateway.ChatAsync(free);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var spent = await _gateway.ChatAsync(capped))
        {
            Assert.Equal(HttpStatusCode.OK, spent.StatusCode);
        }

        using (var refused = await _gateway.ChatAsync(capped))
        {
            Assert.StartsWith($"Budget has been exceeded! User=capped in Team={teamId}", await ErrorAssert.IsOpenAiErrorAsync(refused, 400), StringComparison.Ordinal);
        }

        using (var stillOk = await _gateway.ChatAsync(free))
        {
            Assert.Equal(HttpStatusCode.OK, stillOk.StatusCode);
        }

        var info = await _gateway.AdminOkAsync(HttpMethod.Get, "/team/info?team_id=" + teamId);
        var memberships = info.GetProperty("team_memberships").EnumerateArray().ToDictionary(m => m.GetProperty("user_id").GetString()!);
        Assert.Equal(1, memberships["capped"].GetProperty("litellm_budget_table").GetProperty("max_budget").GetDouble());
        Assert.True(memberships["free"].GetProperty("spend").GetDouble() > memberships["capped"].GetProperty("spend").GetDouble());
        var roles = info.GetProperty("team_info").GetProperty("members_with_roles").EnumerateArray().ToDictionary(m => m.GetProperty("user_id").GetString()!, m => m.GetProperty("role").GetString());
        Assert.Equal("admin", roles["free"]);
        Assert.Equal("user", roles["capped"]);
    }

    [Fact]
    public async Task A_customer_named_by_the_header_is_refused_past_its_tier_budget_while_another_customer_passes()
    {
        await _gateway.AdminOkAsync(HttpMethod.Post, "/budget/new", """{"budget_id":"tier-small","max_budget":1}""");
        await _gateway.AdminOkAsync(HttpMethod.Post, "/customer/new", """{"user_id":"acme","budget_id":"tier-small"}""");
        await _gateway.AdminOkAsync(HttpMethod.Post, "/customer/new", """{"user_id":"globex","budget_id":"tier-small"}""");
        var (key, _) = await _gateway.GenerateAsync();

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(key, "acme"));
        using (var refused = await CustomerChatAsync(key, "acme"))
        {
            Assert.StartsWith("ExceededBudget: End User=acme over budget.", await ErrorAssert.IsOpenAiErrorAsync(refused, 400), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(key, "globex"));
        var acme = await _gateway.AdminOkAsync(HttpMethod.Get, "/customer/info?end_user_id=acme");
        Assert.True(acme.GetProperty("spend").GetDouble() > 1);
        Assert.Equal("tier-small", acme.GetProperty("litellm_budget_table").GetProperty("budget_id").GetString());

        // The spend log names the customer; the report sums per customer.
        Assert.True(await Eventually.TrueAsync(async () =>
            (await _gateway.AdminOkAsync(HttpMethod.Get, "/global/spend/end_users")).EnumerateArray().Count(e => e.GetProperty("end_user").GetString() is "acme" or "globex") == 2,
            TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_customer_named_by_the_body_user_field_is_tracked_and_can_be_blocked()
    {
        var (key, _) = await _gateway.GenerateAsync();
        using (var response = await _gateway.ChatAsync(key, extra: ""","user":"ishaan3" """))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var info = await _gateway.AdminOkAsync(HttpMethod.Get, "/customer/info?end_user_id=ishaan3");
        Assert.True(info.GetProperty("spend").GetDouble() > 0);
        Assert.False(info.GetProperty("blocked").GetBoolean());

        await _gateway.AdminOkAsync(HttpMethod.Post, "/customer/block", """{"user_ids":["ishaan3"]}""");
        using var blocked = await _gateway.ChatAsync(key, extra: ""","user":"ishaan3" """);
        Assert.Contains("End User=ishaan3 is blocked", await ErrorAssert.IsOpenAiErrorAsync(blocked, 403));
    }

    [Fact]
    public async Task Per_model_key_budgets_refuse_one_model_and_allow_another()
    {
        var (key, _) = await _gateway.GenerateAsync("""{"model_max_budget":{"qwen3-8b":{"budget_limit":"1","time_period":"1d"}}}""");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(key, null));
        using (var refused = await _gateway.ChatAsync(key))
        {
            Assert.Contains("exceeded budget for model=qwen3-8b", await ErrorAssert.IsOpenAiErrorAsync(refused, 400));
        }

        using var other = await _gateway.ChatAsync(key, "other-model");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task A_blocked_team_is_refused_with_403_and_team_models_are_enforced()
    {
        var teamId = await TeamAsync("""{"models":["other-model"]}""");
        var (key, _) = await _gateway.GenerateAsync($$"""{"team_id":"{{teamId}}"}""");
        using (var wrongModel = await _gateway.ChatAsync(key))
        {
            Assert.Contains("This team can only access models=[other-model]", await ErrorAssert.IsOpenAiErrorAsync(wrongModel, 403));
        }

        using (var allowed = await _gateway.ChatAsync(key, "other-model"))
        {
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        await _gateway.AdminOkAsync(HttpMethod.Post, "/team/block", $$"""{"team_id":"{{teamId}}"}""");
        using (var blocked = await _gateway.ChatAsync(key, "other-model"))
        {
            Assert.Contains($"Team={teamId} is blocked", await ErrorAssert.IsOpenAiErrorAsync(blocked, 403));
        }

        await _gateway.AdminOkAsync(HttpMethod.Post, "/team/unblock", $$"""{"team_id":"{{teamId}}"}""");
        using var unblocked = await _gateway.ChatAsync(key, "other-model");
        Assert.Equal(HttpStatusCode.OK, unblocked.StatusCode);
    }

    [Fact]
    public async Task Team_rpm_limit_answers_429_with_retry_after()
    {
        var teamId = await TeamAsync("""{"rpm_limit":2}""");
        var (a, _) = await _gateway.GenerateAsync($$"""{"team_id":"{{teamId}}"}""");
        var (b, _) = await _gateway.GenerateAsync($$"""{"team_id":"{{teamId}}"}""");
        await AwayFromMinuteEndAsync();
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(a, null));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(b, null));
        using var refused = await _gateway.ChatAsync(a);
        Assert.Contains($"Rate limit exceeded for team: {teamId}. Limit type: requests", await ErrorAssert.IsOpenAiErrorAsync(refused, 429));
        Assert.True(refused.Headers.RetryAfter is not null);
    }

    [Fact]
    public async Task Two_requests_with_the_same_call_id_are_both_in_the_spend_log_and_the_global_spend()
    {
        var (key, token) = await _gateway.GenerateAsync();
        var costs = new List<double>();
        for (var i = 0; i < 2; i++)
        {
            using var request = _gateway.Gateway.Post("/v1/chat/completions", """{"model":"qwen3-8b","messages":[{"role":"user","content":"hello there"}],"max_tokens":4}""", key);
            request.Headers.Add("x-litellm-call-id", "reused-call-id-1");
            using var response = await _gateway.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            costs.Add(double.Parse(response.Headers.GetValues("x-litellm-response-cost").Single(), CultureInfo.InvariantCulture));
        }

        Assert.True(await Eventually.TrueAsync(async () => (await _gateway.SpendLogsAsync(token)).Length == 2, TimeSpan.FromSeconds(10)));
        var logs = await _gateway.SpendLogsAsync(token);
        Assert.All(logs, l => Assert.Equal("reused-call-id-1", l.GetProperty("call_id").GetString()));
        Assert.NotEqual(logs[0].GetProperty("request_id").GetString(), logs[1].GetProperty("request_id").GetString());
        var global = await _gateway.AdminOkAsync(HttpMethod.Get, "/global/spend");
        Assert.Equal(costs.Sum(), global.GetProperty("spend").GetDouble(), 9);
        // The client's id still finds its rows.
        var byId = await _gateway.AdminOkAsync(HttpMethod.Get, "/spend/logs?request_id=reused-call-id-1");
        Assert.Equal(2, byId.GetArrayLength());
    }

    [Fact]
    public async Task Bad_input_on_the_tenant_endpoints_is_a_400_or_404_in_openai_shape()
    {
        (string Method, string Path, string? Body, int Status)[] cases =
        [
            ("GET", "/team/info?team_id=nope", null, 404),
            ("GET", "/team/info", null, 400),
            ("POST", "/team/new", """{"max_budget":-1}""", 400),
            ("POST", "/team/new", """{"max_budget":"ten"}""", 400),
            ("POST", "/team/new", """{"rpm_limit":1.5}""", 400),
            ("POST", "/team/new", """{"budget_duration":"soon"}""", 400),
            ("POST", "/team/new", """{"models":"x","organization_id":"missing-org"}""", 400),
            ("POST", "/team/new", """[1,2]""", 400),
            ("POST", "/team/new", """{not json""", 400),
            ("POST", "/team/update", """{"team_id":"nope","max_budget":1}""", 404),
            ("POST", "/team/update", """{"team_id":5}""", 400),
            ("POST", "/team/delete", """{"team_ids":["nope"]}""", 404),
            ("POST", "/team/delete", """{}""", 400),
            ("POST", "/team/block", """{"team_id":"nope"}""", 404),
            ("POST", "/team/member_add", """{"team_id":"nope","member":{"user_id":"u"}}""", 404),
            ("POST", "/team/member_delete", """{"team_id":"nope","user_id":"u"}""", 404),
            ("POST", "/team/member_update", """{"team_id":"nope","user_id":"u"}""", 404),
            ("GET", "/user/info?user_id=nope", null, 404),
            ("POST", "/user/new", """{"max_budget":-5}""", 400),
            ("POST", "/user/new", """{"user_role":"emperor"}""", 400),
            ("POST", "/user/update", """{"user_id":"nope"}""", 404),
            ("POST", "/user/delete", """{"user_ids":["nope"]}""", 404),
            ("GET", "/customer/info?end_user_id=nope", null, 404),
            ("POST", "/customer/new", """{"alias":"no id"}""", 400),
            ("POST", "/customer/new", """{"user_id":"c1","budget_id":"no-such-tier"}""", 400),
            ("POST", "/customer/new", """{"user_id":"c1","max_budget":-1}""", 400),
            ("POST", "/customer/update", """{"user_id":"nope"}""", 404),
            ("POST", "/customer/delete", """{"user_ids":["nope"]}""", 404),
            ("POST", "/end_user/unblock", """{"user_ids":["nope"]}""", 404),
            ("POST", "/budget/new", """{"max_budget":-1}""", 400),
            ("POST", "/budget/new", """{"max_budget":1,"soft_budget":2}""", 400),
            ("POST", "/budget/new", """{"model_max_budget":{"m":{"budget_limit":"x"}}}""", 400),
            ("POST", "/budget/update", """{"budget_id":"nope"}""", 404),
            ("POST", "/budget/delete", """{"id":"nope"}""", 404),
            ("POST", "/budget/info", """{"budgets":["nope"]}""", 404),
            ("GET", "/organization/info?organization_id=nope", null, 404),
            ("POST", "/organization/new", """{"max_budget":1}""", 400),
            ("POST", "/organization/update", """{"organization_id":"nope"}""", 404),
            ("POST", "/organization/delete", """{"organization_ids":["nope"]}""", 404),
            ("POST", "/organization/member_add", """{"organization_id":"nope","member":[{"user_id":"u"}]}""", 404),
            ("POST", "/key/generate", """{"team_id":"no-such-team"}""", 400),
            ("POST", "/key/generate", """{"budget_id":"no-such-tier"}""", 400),
            ("POST", "/key/generate", """{"model_max_budget":{"m":-1}}""", 400),
            ("POST", "/key/generate", """{"model_rpm_limit":{"m":"fast"}}""", 400),
        ];
        foreach (var (method, path, body, status) in cases)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Configs.MasterKey);
            if (body is not null)
            {
                request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
            }

            using var response = await _gateway.Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(status == (int)response.StatusCode, $"{method} {path} {body}: expected {status}, got {(int)response.StatusCode} {text}");
            using var json = JsonDocument.Parse(text);
            Assert.Equal(status.ToString(CultureInfo.InvariantCulture), json.RootElement.GetProperty("error").GetProperty("code").GetString());
        }
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Tenants_survive_a_restart_with_their_spend()
    {
        var teamId = await TeamAsync("""{"team_alias":"durable","max_budget":1000}""");
        var (key, _) = await _gateway.GenerateAsync($$"""{"team_id":"{{teamId}}"}""");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(key, "cust-durable"));
        var before = (await _gateway.AdminOkAsync(HttpMethod.Get, "/team/info?team_id=" + teamId)).GetProperty("team_info").GetProperty("spend").GetDouble();
        Assert.True(before > 0);

        await _gateway.RestartAsync();
        var after = (await _gateway.AdminOkAsync(HttpMethod.Get, "/team/info?team_id=" + teamId)).GetProperty("team_info");
        Assert.Equal(before, after.GetProperty("spend").GetDouble(), 9);
        Assert.Equal("durable", after.GetProperty("team_alias").GetString());
        var customer = await _gateway.AdminOkAsync(HttpMethod.Get, "/customer/info?end_user_id=cust-durable");
        Assert.Equal(before, customer.GetProperty("spend").GetDouble(), 9);
    }

    protected async Task<HttpStatusCode> StatusAsync(string key, string? customer)
    {
        using var response = await CustomerChatAsync(key, customer);
        return response.StatusCode;
    }

    protected Task<HttpResponseMessage> CustomerChatAsync(string key, string? customer)
    {
        var request = _gateway.Gateway.Post("/v1/chat/completions", """{"model":"qwen3-8b","messages":[{"role":"user","content":"hello there"}],"max_tokens":4}""", key);
        if (customer is not null)
        {
            request.Headers.Add("x-litellm-customer-id", customer);
        }

        return _gateway.Http.SendAsync(request);
    }

    // Rate windows are calendar minutes: a test that would straddle a boundary waits for the next minute.
    private static async Task AwayFromMinuteEndAsync()
    {
        var second = DateTimeOffset.UtcNow.Second;
        if (second >= 50)
        {
            await Task.Delay(TimeSpan.FromSeconds(61 - second));
        }
    }
}

public sealed class SqliteTenantBudgetTests : TenantBudgetTests
{
    protected override Task<string?> DatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresTenantBudgetTests : TenantBudgetTests
{
    protected override async Task<string?> DatabaseAsync() => (await PostgresDatabase.CreateAsync()).ConnectionString;
}
