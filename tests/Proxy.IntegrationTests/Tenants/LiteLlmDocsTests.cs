using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FakeUpstream;
using OpenAI.Chat;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Tenants;

/// <summary>
/// LiteLLM's own documentation for teams, team members, internal users and customers, run as its curl commands send
/// it: same paths, same headers (master key sk-1234), same JSON bodies. Only ids the docs show as examples of what an
/// earlier call returned (a team id, a key) are replaced by what the gateway returned. Bodies the docs annotate inside
/// the JSON (<c># 👈 ...</c>) are sent verbatim first (not JSON: LiteLLM refuses them too) and then without the
/// annotation. Sources: docs/my-website/docs/proxy/team_budgets.md, users.md and customers.md in BerriAI/litellm.
/// Each test has a gateway of its own (embedded store), as each docs section starts from a fresh proxy.
/// </summary>
public sealed partial class LiteLlmDocsTests : IAsyncLifetime
{
    private const string MasterKey = "sk-1234";

    private FakeUpstreamServer _upstream = null!;
    private GatewayInstance _gateway = null!;
    private string _directory = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstreamServer.StartAsync();
        _directory = Path.Combine(Path.GetTempPath(), "gw-docs-" + Guid.NewGuid().ToString("N"));
        _gateway = await GatewayInstance.StartAsync(Config(""), directory: _directory);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    /// <summary>The model names the docs call, all on the fake vLLM, priced (by default) so that one request costs a few dollars.</summary>
    private string Config(string litellmSettings, double inputPrice = 0.5)
    {
        var models = new StringBuilder();
        foreach (var name in (string[])["llama3", "azure-gpt-3.5", "gpt-3.5-turbo", "mistral", "azure-models", "gpt-4o"])
        {
            models.Append(CultureInfo.InvariantCulture, $"""
                  - model_name: {name}
                    litellm_params:
                      model: hosted_vllm/{name}
                      api_base: {_upstream.BaseUrl}
                      input_cost_per_token: {inputPrice}
                      output_cost_per_token: {inputPrice / 2}

                """);
        }

        return $"""
            model_list:
            {models}
            router_settings:
              num_retries: 0
            general_settings:
              master_key: {MasterKey}
              proxy_batch_write_at: 0.1
            {(litellmSettings.Length == 0 ? "" : "litellm_settings:\n  " + litellmSettings)}
            """;
    }

    // team_budgets.md, "Setting Monthly Team Budgets" (and "Prometheus metrics for remaining_budget").
    [Fact]
    public async Task Team_budgets_doc_refuses_the_second_request_of_the_team_key()
    {
        var team = await OkAsync("POST", "/team/new", """
            {
                        "team_alias": "QA Prod Bot", 
                        "max_budget": 0.000000001, 
                        "budget_duration": "1d"
                    }
            """);
        Assert.Equal("QA Prod Bot", team.GetProperty("team_alias").GetString());
        var teamId = team.GetProperty("team_id").GetString()!;
        Assert.Equal(0.000000001, team.GetProperty("max_budget").GetDouble());
        Assert.Equal("1d", team.GetProperty("budget_duration").GetString());
        var resetAt = DateTimeOffset.Parse(team.GetProperty("budget_reset_at").GetString()!, CultureInfo.InvariantCulture);
        Assert.InRange(resetAt - DateTimeOffset.UtcNow, TimeSpan.FromHours(23), TimeSpan.FromHours(25));

        var key = await OkAsync("POST", "/key/generate", """{"team_id": "de35b29e-6ca8-4f47-b804-2b79d07aa99a"}""".Replace("de35b29e-6ca8-4f47-b804-2b79d07aa99a", teamId, StringComparison.Ordinal));
        Assert.Equal(teamId, key.GetProperty("team_id").GetString());
        var sk = key.GetProperty("key").GetString()!;
        Assert.StartsWith("sk-", sk, StringComparison.Ordinal);

        // "Use the key from step 2 and run this Request twice ... On the 2nd response - expect to see the following exception"
        const string Chat = """
             {
                       "model": "llama3",
                       "messages": [
                         {
                           "role": "user",
                           "content": "hi"
                         }
                       ]
                     }
            """;
        var (first, _) = await SendAsync("POST", "/chat/completions", Chat, sk);
        Assert.Equal(HttpStatusCode.OK, first);
        var error = await ErrorAsync("POST", "/chat/completions", Chat, sk, 400);
        Assert.Matches(@"^Budget has been exceeded! Team=\S+ Current cost: [0-9.eE+-]+, Max budget: 1e-09$", error.GetProperty("message").GetString());
        Assert.Equal("400", error.GetProperty("code").GetString());
        // The page shows type "auth_error"; LiteLLM's code (and its other pages) answer budgets as "budget_exceeded".
        Assert.Equal("budget_exceeded", error.GetProperty("type").GetString());

        // "Expect to see this metric on prometheus to track the Remaining Budget for the team"
        var metrics = await _gateway.Http.GetStringAsync("/metrics");
        Assert.Matches($"litellm_remaining_team_budget_metric\\{{[^}}]*team_alias=\"QA Prod Bot\"[^}}]*\\}} -?[0-9.eE+-]+", metrics);
        Assert.Contains($"team_id=\"{teamId}\"", metrics, StringComparison.Ordinal);
    }

    // users.md, "Team" (add budgets and a budget duration to teams) and "Team Members" (steps 1-4).
    [Fact]
    public async Task Users_doc_team_and_team_member_budget()
    {
        var team = await OkAsync("POST", "/team/new", """
            {
              "team_alias": "my-new-team_4",
              "members_with_roles": [{"role": "admin", "user_id": "5c4a0aa3-a1e1-43dc-bd87-3c2da8382a3a"}],
              "rpm_limit": 99
            }
            """);
        // The sample response, field by field.
        Assert.Equal("my-new-team_4", team.GetProperty("team_alias").GetString());
        var teamId = team.GetProperty("team_id").GetString()!;
        Assert.Equal(0, team.GetProperty("admins").GetArrayLength());
        Assert.Equal(0, team.GetProperty("members").GetArrayLength());
        var member = Assert.Single(team.GetProperty("members_with_roles").EnumerateArray());
        Assert.Equal("admin", member.GetProperty("role").GetString());
        Assert.Equal("5c4a0aa3-a1e1-43dc-bd87-3c2da8382a3a", member.GetProperty("user_id").GetString());
        Assert.Equal("{}", team.GetProperty("metadata").GetRawText());
        Assert.Equal(JsonValueKind.Null, team.GetProperty("tpm_limit").ValueKind);
        Assert.Equal(99, team.GetProperty("rpm_limit").GetInt32());
        Assert.Equal(JsonValueKind.Null, team.GetProperty("max_budget").ValueKind);
        Assert.Equal(0, team.GetProperty("models").GetArrayLength());
        Assert.Equal(0.0, team.GetProperty("spend").GetDouble());
        Assert.Equal(JsonValueKind.Null, team.GetProperty("max_parallel_requests").ValueKind);
        Assert.Equal(JsonValueKind.Null, team.GetProperty("budget_duration").ValueKind);
        Assert.Equal(JsonValueKind.Null, team.GetProperty("budget_reset_at").ValueKind);

        // "Add budget duration to teams": the docs' body ends in a trailing comma; taken as LiteLLM means it.
        var withDuration = await OkAsync("POST", "/team/new", """
            {
              "team_alias": "my-new-team_4",
              "members_with_roles": [{"role": "admin", "user_id": "5c4a0aa3-a1e1-43dc-bd87-3c2da8382a3a"}],
              "budget_duration": "30s",
            }
            """);
        Assert.Equal("30s", withDuration.GetProperty("budget_duration").GetString());
        Assert.NotEqual(teamId, withDuration.GetProperty("team_id").GetString());

        // Team Members, step 1: create user ishaan.
        var user = await OkAsync("POST", "/user/new", """
            {
                    "user_id": "ishaan"
            }
            """);
        Assert.Equal("ishaan", user.GetProperty("user_id").GetString());

        // Step 2: add ishaan to the team with max_budget_in_team (the docs' team id replaced by ours).
        await OkAsync("POST", "/team/member_add",
            """{"team_id": "e8d1460f-846c-45d7-9b43-55f3cc52ac32", "max_budget_in_team": 0.000000000001, "member": {"role": "user", "user_id": "ishaan"}}"""
                .Replace("e8d1460f-846c-45d7-9b43-55f3cc52ac32", teamId, StringComparison.Ordinal));

        // Step 3: a key for the member; the documented response fields.
        var key = await OkAsync("POST", "/key/generate", """
            {
                    "user_id": "ishaan",
                    "team_id": "e8d1460f-846c-45d7-9b43-55f3cc52ac32"
            }
            """.Replace("e8d1460f-846c-45d7-9b43-55f3cc52ac32", teamId, StringComparison.Ordinal));
        var sk = key.GetProperty("key").GetString()!;
        Assert.StartsWith("sk-", sk, StringComparison.Ordinal);
        Assert.Equal(0, key.GetProperty("models").GetArrayLength());
        Assert.Equal(0.0, key.GetProperty("spend").GetDouble());
        Assert.Equal("ishaan", key.GetProperty("user_id").GetString());
        Assert.Equal(teamId, key.GetProperty("team_id").GetString());
        Assert.Equal("{}", key.GetProperty("metadata").GetRawText());
        foreach (var name in (string[])["max_budget", "max_parallel_requests", "tpm_limit", "rpm_limit", "budget_duration", "soft_budget", "key_alias", "expires"])
        {
            Assert.True(key.GetProperty(name).ValueKind == JsonValueKind.Null, name + " should be null");
        }

        foreach (var name in (string[])["aliases", "config", "permissions", "model_max_budget"])
        {
            Assert.Equal("{}", key.GetProperty(name).GetRawText());
        }

        Assert.Equal(0, key.GetProperty("allowed_cache_controls").GetArrayLength());

        // Step 4: "After 2-3 requests expect to see the following error ExceededBudget: Crossed spend within team".
        const string Chat = """
            {
                "model": "llama3",
                "messages": [
                    {
                    "role": "user",
                    "content": "tes4"
                    }
                ]
            }
            """;
        var (first, _) = await SendAsync("POST", "/chat/completions", Chat, sk);
        Assert.Equal(HttpStatusCode.OK, first);
        var refused = await ErrorAsync("POST", "/chat/completions", Chat, sk, 400);
        Assert.StartsWith($"Budget has been exceeded! User=ishaan in Team={teamId}", refused.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("budget_exceeded", refused.GetProperty("type").GetString());
    }

    // users.md, "Internal User" (add budgets to users; a key for the user) and "Virtual Key (Model Specific)".
    [Fact]
    public async Task Users_doc_internal_user_budget_and_model_specific_key_budget()
    {
        var user = await OkAsync("POST", "/user/new", """{"models": ["azure-models"], "max_budget": 0, "user_id": "krrish3@berri.ai"}""");
        Assert.StartsWith("sk-", user.GetProperty("key").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, user.GetProperty("expires").ValueKind);
        Assert.Equal("krrish3@berri.ai", user.GetProperty("user_id").GetString());
        Assert.Equal(0.0, user.GetProperty("max_budget").GetDouble());

        // "Budget Check: krrish3@berri.ai's budget will be checked for this key": $0 allows nothing.
        var key = await OkAsync("POST", "/key/generate", """{"models": ["azure-models"], "user_id": "krrish3@berri.ai"}""");
        var sk = key.GetProperty("key").GetString()!;
        var refused = await ErrorAsync("POST", "/chat/completions", """{"model": "azure-models", "messages": [{"role": "user", "content": "what llm are you"}]}""", sk, 400);
        Assert.StartsWith("ExceededBudget: User=krrish3@berri.ai over budget.", refused.GetProperty("message").GetString(), StringComparison.Ordinal);

        var modelKey = await OkAsync("POST", "/key/generate", """
            {
              "model_max_budget": {"gpt-4o": {"budget_limit": "0.0000001", "time_period": "1d"}}
            }
            """);
        var modelSk = modelKey.GetProperty("key").GetString()!;
        const string Chat = """
             {
                  "model": "gpt-4o",
                  "messages": [
                    {
                      "role": "user",
                      "content": "testing request"
                    }
                  ]
                }

            """;
        var (first, _) = await SendAsync("POST", "/chat/completions", Chat, modelSk);
        Assert.Equal(HttpStatusCode.OK, first);
        // The documented error: message, type "budget_exceeded", code "400".
        var error = await ErrorAsync("POST", "/chat/completions", Chat, modelSk, 400);
        Assert.StartsWith($"LiteLLM Virtual Key: {modelKey.GetProperty("token").GetString()}, key_alias: None, exceeded budget for model=gpt-4o", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("budget_exceeded", error.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.Equal("400", error.GetProperty("code").GetString());
    }

    // customers.md, "Tracking Customer Spend" (1. a call with the customer id, 2. its spend), then the customer
    // endpoints' own docstring examples: block, the /end_user alias, delete.
    [Fact]
    public async Task Customers_doc_tracks_spend_of_the_user_in_the_body()
    {
        var (status, _) = await SendAsync("POST", "/chat/completions", WithoutAnnotations("""
             {
                    "model": "azure-gpt-3.5",
                    "user": "ishaan3", # 👈 CUSTOMER ID
                    "messages": [
                        {
                        "role": "user",
                        "content": "what time is it"
                        }
                    ]
                    }
            """), MasterKey);
        Assert.Equal(HttpStatusCode.OK, status);

        var info = await OkAsync("GET", "/customer/info?end_user_id=ishaan3", null);
        Assert.Equal("ishaan3", info.GetProperty("user_id").GetString());
        Assert.False(info.GetProperty("blocked").GetBoolean());
        Assert.Equal(JsonValueKind.Null, info.GetProperty("alias").ValueKind);
        Assert.True(info.GetProperty("spend").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Null, info.GetProperty("allowed_model_region").ValueKind);
        Assert.Equal(JsonValueKind.Null, info.GetProperty("default_model").ValueKind);
        Assert.Equal(JsonValueKind.Null, info.GetProperty("litellm_budget_table").ValueKind);

        // "If the customer_id already exists, spend will be incremented."
        var before = info.GetProperty("spend").GetDouble();
        Assert.Equal(HttpStatusCode.OK, (await SendAsync("POST", "/chat/completions", """{"model": "azure-gpt-3.5", "user": "ishaan3", "messages": [{"role": "user", "content": "what time is it"}]}""", MasterKey)).Status);
        Assert.True((await OkAsync("GET", "/end_user/info?end_user_id=ishaan3", null)).GetProperty("spend").GetDouble() > before);

        // customer_endpoints.py: /customer/block answers the blocked rows; the customer's calls are then refused.
        var blocked = await OkAsync("POST", "/customer/block", """{"user_ids": ["ishaan3"]}""");
        var row = Assert.Single(blocked.GetProperty("blocked_users").EnumerateArray());
        Assert.Equal("ishaan3", row.GetProperty("user_id").GetString());
        Assert.True(row.GetProperty("blocked").GetBoolean());
        var error = await ErrorAsync("POST", "/chat/completions", """{"model": "azure-gpt-3.5", "user": "ishaan3", "messages": [{"role": "user", "content": "hi"}]}""", MasterKey, 403);
        Assert.Contains("End User=ishaan3 is blocked", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True((await OkAsync("GET", "/customer/info?end_user_id=ishaan3", null)).GetProperty("blocked").GetBoolean());
        await OkAsync("POST", "/end_user/unblock", """{"user_ids": ["ishaan3"]}""");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync("POST", "/chat/completions", """{"model": "azure-gpt-3.5", "user": "ishaan3", "messages": [{"role": "user", "content": "hi"}]}""", MasterKey)).Status);

        var deleted = await OkAsync("POST", "/customer/delete", """
            {
                        "user_ids" :["ishaan3"]
                }
            """);
        Assert.Equal(1, deleted.GetProperty("deleted_customers").GetInt32());
        Assert.Equal("Successfully deleted customers with ids: ['ishaan3']", deleted.GetProperty("message").GetString());
        await ErrorAsync("GET", "/customer/info?end_user_id=ishaan3", null, MasterKey, 404);
    }

    // customers.md, "Setting Customer Budgets" / "Quick Start": a customer with "max_budget": "0" (a string: "CAN BE FLOAT").
    [Fact]
    public async Task Customers_doc_customer_with_a_zero_budget_is_refused_and_others_are_not()
    {
        const string Body = """
            {
                    "user_id" : "my-customer-id",
                    "max_budget": "0", # 👈 CAN BE FLOAT
                }
            """;
        // Verbatim, the annotation makes it not JSON: refused with a 400 that says so (LiteLLM answers 422).
        var invalid = await ErrorAsync("POST", "/customer/new", Body, MasterKey, 400);
        Assert.Contains("JSON", invalid.GetProperty("message").GetString(), StringComparison.Ordinal);
        var created = await OkAsync("POST", "/customer/new", WithoutAnnotations(Body));
        Assert.Equal("my-customer-id", created.GetProperty("user_id").GetString());
        Assert.Equal(0.0, created.GetProperty("litellm_budget_table").GetProperty("max_budget").GetDouble());

        var error = await ErrorAsync("POST", "/chat/completions", """{"model": "mistral", "user": "my-customer-id", "messages": [{"role": "user", "content": "hi"}]}""", MasterKey, 400);
        Assert.StartsWith("ExceededBudget: End User=my-customer-id over budget.", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        // The docs' "Test it!" call names another customer, which has no budget and passes.
        var (status, _) = await SendAsync("POST", "/chat/completions", """
            {
                "model": "mistral",
                "messages": [
                    {
                    "role": "user",
                    "content": "What's the weather like in Boston today?"
                    }
                ],
                "user": "ishaan-jaff-48"
            }
            """, MasterKey);
        Assert.Equal(HttpStatusCode.OK, status);

        // A second /customer/new for the same id: LiteLLM's message.
        var duplicate = await ErrorAsync("POST", "/customer/new", WithoutAnnotations(Body), MasterKey, 400);
        Assert.StartsWith("Customer already exists, passed user_id=my-customer-id. Please pass a new user_id", duplicate.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    // customers.md, "Assign Pricing Tiers": a tier, a customer on it, and the OpenAI SDK call with user=.
    [Fact]
    public async Task Customers_doc_pricing_tier_holds_the_customer_called_through_the_openai_sdk()
    {
        var budget = await OkAsync("POST", "/budget/new", """
            {
                "budget_id": "my-free-tier", 
                "max_budget": 4 
            }
            """);
        Assert.Equal("my-free-tier", budget.GetProperty("budget_id").GetString());
        Assert.Equal(4, budget.GetProperty("max_budget").GetDouble());
        var customer = await OkAsync("POST", "/customer/new", WithoutAnnotations("""
            {
                "user_id": "my-customer-id",
                "budget_id": "my-free-tier" # 👈 KEY CHANGE
            }
            """));
        Assert.Equal("my-free-tier", customer.GetProperty("budget_id").GetString());
        Assert.Equal(4, customer.GetProperty("litellm_budget_table").GetProperty("max_budget").GetDouble());

        // The OpenAI tab: client.chat.completions.create(model="gpt-3.5-turbo", messages=[...], user="my-customer-id").
        var chat = Sdk.Client(_gateway, MasterKey).GetChatClient("gpt-3.5-turbo");
        // EndUserId is the SDK's name for the body's "user".
        var options = new ChatCompletionOptions { EndUserId = "my-customer-id" };
        ChatMessage[] messages = [new SystemChatMessage("You are a helpful assistant."), new UserChatMessage("Hello!")];
        var calls = 0;
        System.ClientModel.ClientResultException? refused = null;
        while (calls < 10 && refused is null)
        {
            try
            {
                await chat.CompleteChatAsync(messages, options);
                calls++;
            }
            catch (System.ClientModel.ClientResultException ex)
            {
                refused = ex;
            }
        }

        // Each call costs a few dollars: the $4 tier admits one or two, then answers 400.
        Assert.NotNull(refused);
        Assert.Equal(400, refused.Status);
        Assert.InRange(calls, 1, 2);
        var spend = (await OkAsync("GET", "/customer/info?end_user_id=my-customer-id", null)).GetProperty("spend").GetDouble();
        Assert.True(spend >= 4, $"spend {spend}");
    }

    // customers.md, "Default Budget for All Customers": a budget without an id, named in max_end_user_budget_id.
    [Fact]
    public async Task Customers_doc_default_budget_for_all_customers_limits_their_rate()
    {
        var budget = await OkAsync("POST", "/budget/new", """
            {
                "max_budget": 10,
                "rpm_limit": 2,
                "tpm_limit": 1000
            }
            """);
        var budgetId = budget.GetProperty("budget_id").GetString()!;
        Assert.Equal(2, budget.GetProperty("rpm_limit").GetInt32());

        // Step 2 is a config change: the gateway starts again on the same database with it (and cheap models, so that
        // the rate limit, not the $10, is what the third call meets).
        await _gateway.DisposeAsync();
        _gateway = await GatewayInstance.StartAsync(Config($"max_end_user_budget_id: \"{budgetId}\"", inputPrice: 0.001), directory: _directory);
        const string Chat = """
            {
                "model": "gpt-3.5-turbo",
                "messages": [{"role": "user", "content": "Hello"}],
                "user": "my-customer-id"
            }
            """;
        await AwayFromMinuteEndAsync();
        Assert.Equal(HttpStatusCode.OK, (await SendAsync("POST", "/chat/completions", Chat, MasterKey)).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync("POST", "/chat/completions", Chat, MasterKey)).Status);
        var (status, _) = await SendAsync("POST", "/chat/completions", Chat, MasterKey);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        // "Customers with explicit budgets are unaffected" — and so is a customer's neighbour: the limit is per customer.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync("POST", "/chat/completions", Chat.Replace("my-customer-id", "other-customer", StringComparison.Ordinal), MasterKey)).Status);
    }

    // users.md, "Customers": litellm_settings.max_end_user_budget budgets every 'user' passed to /chat/completions.
    [Fact]
    public async Task Users_doc_max_end_user_budget_refuses_the_customer_once_over_it()
    {
        await _gateway.DisposeAsync();
        _gateway = await GatewayInstance.StartAsync(Config("max_end_user_budget: 0.0001 # budget for 'user' passed to /chat/completions"), directory: _directory);
        var key = (await OkAsync("POST", "/key/generate", "{}")).GetProperty("key").GetString()!;
        const string Chat = """
             {
                    "model": "azure-gpt-3.5",
                    "user": "ishaan3",
                    "messages": [
                        {
                        "role": "user",
                        "content": "what time is it"
                        }
                    ]
                    }
            """;
        Assert.Equal(HttpStatusCode.OK, (await SendAsync("POST", "/chat/completions", Chat, key)).Status);
        var error = await ErrorAsync("POST", "/chat/completions", Chat, key, 400);
        Assert.StartsWith("ExceededBudget: End User=ishaan3 over budget.", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("budget_exceeded", error.GetProperty("type").GetString());
    }

    /// <summary>The docs' annotations inside JSON ("# 👈 CUSTOMER ID") taken out; everything else kept.</summary>
    private static string WithoutAnnotations(string body) => Annotation().Replace(body, "");

    [GeneratedRegex(@"[ \t]*# 👈[^\r\n]*")]
    private static partial Regex Annotation();

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(string method, string path, string? body, string key)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await _gateway.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text.Length == 0 ? "null" : text);
        return (response.StatusCode, document.RootElement.Clone());
    }

    private async Task<JsonElement> OkAsync(string method, string path, string? body)
    {
        var (status, answer) = await SendAsync(method, path, body, MasterKey);
        Assert.True(status == HttpStatusCode.OK, $"{method} {path}: {(int)status} {answer}");
        return answer;
    }

    /// <summary>An OpenAI-shaped error with the given status; its "error" object.</summary>
    private async Task<JsonElement> ErrorAsync(string method, string path, string? body, string key, int status)
    {
        var (actual, answer) = await SendAsync(method, path, body, key);
        Assert.True((int)actual == status, $"{method} {path}: expected {status}, got {(int)actual} {answer}");
        return answer.GetProperty("error");
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
