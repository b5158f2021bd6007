using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Keys;

/// <summary>The key lifecycle against one store; run once per store by the subclasses below.</summary>
public abstract class VirtualKeyTests : IAsyncLifetime
{
    protected KeysGateway Keys { get; private set; } = null!;

    /// <summary>Null for the embedded store; else a fresh database, so that each test sees only its own keys.</summary>
    protected abstract Task<string?> DatabaseUrlAsync();

    public async Task InitializeAsync() => Keys = await KeysGateway.StartAsync(await DatabaseUrlAsync());

    public async Task DisposeAsync() => await Keys.DisposeAsync();

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Generated_key_is_shown_once_stored_as_its_sha256_and_works()
    {
        var body = await Keys.AdminOkAsync(HttpMethod.Post, "/key/generate",
            """{"key_alias":"team-a","models":["qwen3-8b"],"max_budget":10,"rpm_limit":100,"metadata":{"team":"a","n":1}}""");
        var key = body.GetProperty("key").GetString()!;
        var token = body.GetProperty("token").GetString()!;

        Assert.StartsWith("sk-", key);
        Assert.Equal(25, key.Length);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))), token);
        Assert.Equal("sk-..." + key[^4..], body.GetProperty("key_name").GetString());
        Assert.Equal("team-a", body.GetProperty("key_alias").GetString());
        Assert.Equal(0, body.GetProperty("spend").GetDouble());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("expires").ValueKind);
        Assert.Equal("a", body.GetProperty("metadata").GetProperty("team").GetString());

        using var chat = await Keys.ChatAsync(key);
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);

        var info = await Keys.AdminOkAsync(HttpMethod.Get, "/key/info?key=" + key);
        Assert.Equal(token, info.GetProperty("key").GetString());
        Assert.DoesNotContain(key, info.ToString());
        var list = await Keys.AdminOkAsync(HttpMethod.Get, "/key/list");
        Assert.Equal(1, list.GetProperty("total_count").GetInt32());
        Assert.Equal(token, list.GetProperty("keys")[0].GetString());
        Assert.DoesNotContain(key, list.ToString());
    }

    [Fact]
    public async Task Update_changes_what_the_key_may_do_at_once()
    {
        var (key, token) = await Keys.GenerateAsync("""{"models":["qwen3-8b"]}""");
        using (var refused = await Keys.ChatAsync(key, "other-model"))
        {
            var message = await ErrorAssert.IsOpenAiErrorAsync(refused, 403);
            Assert.Contains("key not allowed to access model", message);
        }

        var updated = await Keys.AdminOkAsync(HttpMethod.Post, "/key/update", $$"""{"key":"{{token}}","models":["qwen3-8b","other-model"],"key_alias":"renamed"}""");
        Assert.Equal("renamed", updated.GetProperty("key_alias").GetString());

        using var allowed = await Keys.ChatAsync(key, "other-model");
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("renamed", (await Keys.KeyInfoAsync(key)).GetProperty("key_alias").GetString());
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Blocked_key_is_refused_until_unblocked()
    {
        var (key, _) = await Keys.GenerateAsync();
        var blocked = await Keys.AdminOkAsync(HttpMethod.Post, "/key/block", $$"""{"key":"{{key}}"}""");
        Assert.True(blocked.GetProperty("blocked").GetBoolean());

        using (var refused = await Keys.ChatAsync(key))
        {
            Assert.Contains("blocked", await ErrorAssert.IsOpenAiErrorAsync(refused, 403));
        }

        var unblocked = await Keys.AdminOkAsync(HttpMethod.Post, "/key/unblock", $$"""{"key":"{{key}}"}""");
        Assert.False(unblocked.GetProperty("blocked").GetBoolean());
        using var allowed = await Keys.ChatAsync(key);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task Expired_key_is_refused_with_401()
    {
        var (key, _) = await Keys.GenerateAsync("""{"duration":"1s"}""");
        using (var first = await Keys.ChatAsync(key))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        string? message = null;
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            using var response = await Keys.ChatAsync(key);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return false;
            }

            message = await ErrorAssert.IsOpenAiErrorAsync(response, 401);
            return true;
        }, TimeSpan.FromSeconds(10)));
        Assert.Contains("Expired Key", message);
    }

    [Fact]
    public async Task Deleted_key_is_refused()
    {
        var (key, _) = await Keys.GenerateAsync("""{"key_alias":"doomed"}""");
        using (var first = await Keys.ChatAsync(key))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        var deleted = await Keys.AdminOkAsync(HttpMethod.Post, "/key/delete", $$"""{"keys":["{{key}}"]}""");
        Assert.Equal(key, deleted.GetProperty("deleted_keys")[0].GetString());

        using var refused = await Keys.ChatAsync(key);
        Assert.Contains("Invalid proxy server token", await ErrorAssert.IsOpenAiErrorAsync(refused, 401));
        var (status, _) = await Keys.AdminAsync(HttpMethod.Get, "/key/info?key=" + key);
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task Regenerated_key_replaces_the_old_one_and_keeps_its_spend()
    {
        var (oldKey, oldToken) = await Keys.GenerateAsync("""{"key_alias":"rotating"}""");
        using (var first = await Keys.ChatAsync(oldKey))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        var spent = (await Keys.KeyInfoAsync(oldKey)).GetProperty("spend").GetDouble();
        Assert.True(spent > 0);

        var regenerated = await Keys.AdminOkAsync(HttpMethod.Post, "/key/regenerate", $$"""{"key":"{{oldKey}}"}""");
        var newKey = regenerated.GetProperty("key").GetString()!;
        Assert.NotEqual(oldKey, newKey);
        Assert.NotEqual(oldToken, regenerated.GetProperty("token").GetString());
        Assert.Equal("rotating", regenerated.GetProperty("key_alias").GetString());

        using (var old = await Keys.ChatAsync(oldKey))
        {
            await ErrorAssert.IsOpenAiErrorAsync(old, 401);
        }

        using var fresh = await Keys.ChatAsync(newKey);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.True((await Keys.KeyInfoAsync(newKey)).GetProperty("spend").GetDouble() > spent);
    }

    [Fact]
    public async Task Model_access_follows_models_aliases_and_all_proxy_models()
    {
        var (group, _) = await Keys.GenerateAsync("""{"models":["qwen3-8b"]}""");
        var (alias, _) = await Keys.GenerateAsync("""{"models":["gpt-alias"]}""");
        var (all, _) = await Keys.GenerateAsync("""{"models":["all-proxy-models"]}""");

        Assert.Equal(HttpStatusCode.OK, (await Keys.ChatAsync(group, "qwen3-8b")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Keys.ChatAsync(group, "gpt-alias")).StatusCode);
        using (var denied = await Keys.ChatAsync(group, "other-model"))
        {
            var message = await ErrorAssert.IsOpenAiErrorAsync(denied, 403);
            Assert.Contains("This key can only access models=[qwen3-8b]. Tried to access other-model", message);
        }

        Assert.Equal(HttpStatusCode.OK, (await Keys.ChatAsync(alias, "gpt-alias")).StatusCode);
        await ErrorAssert.IsOpenAiErrorAsync(await Keys.ChatAsync(alias, "qwen3-8b"), 403);
        Assert.Equal(HttpStatusCode.OK, (await Keys.ChatAsync(all, "other-model")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Keys.ChatAsync(all, "qwen3-8b")).StatusCode);

        // /v1/models lists what each key may use (LiteLLM lists models per key); the master key sees everything.
        Assert.Equal(["gpt-alias", "qwen3-8b"], await ModelIdsAsync(group));
        Assert.Equal(["gpt-alias"], await ModelIdsAsync(alias));
        Assert.Equal(["gpt-alias", "other-model", "qwen3-8b"], await ModelIdsAsync(all));
        Assert.Equal(["gpt-alias", "other-model", "qwen3-8b"], await ModelIdsAsync(Configs.MasterKey));
    }

    private async Task<string[]> ModelIdsAsync(string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        using var response = await Keys.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("list", json.RootElement.GetProperty("object").GetString());
        return [.. json.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task Sql_injection_in_key_fields_is_stored_as_plain_text()
    {
        var (victim, _) = await Keys.GenerateAsync("""{"key_alias":"victim"}""");
        const string evilAlias = "x'); DROP TABLE \"LiteLLM_VerificationToken\"; --";
        var body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["key_alias"] = evilAlias,
            ["user_id"] = "' OR '1'='1",
            ["metadata"] = new Dictionary<string, string> { ["note"] = "'; DELETE FROM \"LiteLLM_SpendLogs\"; --" },
        });
        var (evil, _) = await Keys.GenerateAsync(body);

        Assert.Equal(evilAlias, (await Keys.KeyInfoAsync(evil)).GetProperty("key_alias").GetString());
        var none = await Keys.AdminOkAsync(HttpMethod.Get, "/key/list?key_alias=" + Uri.EscapeDataString("' OR '1'='1"));
        Assert.Equal(0, none.GetProperty("total_count").GetInt32());
        var (status, _) = await Keys.AdminAsync(HttpMethod.Post, "/key/delete", """{"key_aliases":["' OR 1=1 --"]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var (infoStatus, _) = await Keys.AdminAsync(HttpMethod.Get, "/key/info?key=" + Uri.EscapeDataString("' OR '1'='1"));
        Assert.Equal(HttpStatusCode.NotFound, infoStatus);

        var all = await Keys.AdminOkAsync(HttpMethod.Get, "/key/list");
        Assert.Equal(2, all.GetProperty("total_count").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await Keys.ChatAsync(victim)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Keys.ChatAsync(evil)).StatusCode);
    }

    [Fact]
    public async Task Virtual_key_may_read_its_own_info_but_not_manage_keys()
    {
        var (key, token) = await Keys.GenerateAsync();
        var (other, _) = await Keys.GenerateAsync();

        var (ownStatus, own) = await Keys.AdminAsync(HttpMethod.Get, "/key/info", key: key);
        Assert.Equal(HttpStatusCode.OK, ownStatus);
        Assert.Equal(token, own.GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await Keys.AdminAsync(HttpMethod.Get, "/key/info?key=" + other, key: key)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Keys.AdminAsync(HttpMethod.Post, "/key/generate", "{}", key: key)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Keys.AdminAsync(HttpMethod.Get, "/spend/logs", key: key)).Status);
    }

    [Fact]
    public async Task Unknown_and_malformed_keys_are_refused_with_401()
    {
        using (var unknown = await Keys.ChatAsync("sk-not-a-real-key-123456"))
        {
            Assert.Contains("Invalid proxy server token", await ErrorAssert.IsOpenAiErrorAsync(unknown, 401));
        }

        using (var again = await Keys.ChatAsync("sk-not-a-real-key-123456"))
        {
            await ErrorAssert.IsOpenAiErrorAsync(again, 401);
        }

        using var malformed = await Keys.ChatAsync("not-even-sk-prefixed");
        Assert.Contains("expected to start with 'sk-'", await ErrorAssert.IsOpenAiErrorAsync(malformed, 401));
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Keys_and_spend_survive_a_restart()
    {
        var (key, _) = await Keys.GenerateAsync("""{"key_alias":"durable"}""");
        using (var first = await Keys.ChatAsync(key))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        var spent = (await Keys.KeyInfoAsync(key)).GetProperty("spend").GetDouble();
        await Keys.RestartAsync();

        using var after = await Keys.ChatAsync(key);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        var info = await Keys.KeyInfoAsync(key);
        Assert.Equal("durable", info.GetProperty("key_alias").GetString());
        Assert.True(info.GetProperty("spend").GetDouble() > spent, $"spend {info.GetProperty("spend")} should be above {spent}");
        Assert.True(await Eventually.TrueAsync(async () => (await Keys.SpendLogsAsync(key)).Length == 2, TimeSpan.FromSeconds(10)),
            "both requests should have a spend-log row");
    }
}

public sealed class SqliteVirtualKeyTests : VirtualKeyTests
{
    protected override Task<string?> DatabaseUrlAsync() => Task.FromResult<string?>(null);
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresVirtualKeyTests : VirtualKeyTests
{
    protected override async Task<string?> DatabaseUrlAsync() => (await PostgresDatabase.CreateAsync()).ConnectionString;
}
