using System.Net;
using System.Text.Json;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Keys;

/// <summary>STORE_MODEL_IN_DB: /model/new, /model/update, /model/delete applied without a restart and kept across one.</summary>
public sealed class StoredModelTests : IAsyncLifetime
{
    private KeysGateway _keys = null!;

    // The fake vLLM listens on loopback, which stored models may reach only with the operator's switch.
    public async Task InitializeAsync() =>
        _keys = await KeysGateway.StartAsync(extraGeneral: "  store_model_in_db: true\n  stored_model_allow_private_api_base: true");

    public async Task DisposeAsync() => await _keys.DisposeAsync();

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Model_added_through_the_api_serves_at_once_and_survives_a_restart()
    {
        var created = await _keys.AdminOkAsync(HttpMethod.Post, "/model/new", $$$"""
            {"model_name":"db-model","litellm_params":{"model":"hosted_vllm/db","api_base":"{{{_keys.Upstream.BaseUrl}}}","api_key":"sk-upstream-secret","input_cost_per_token":1},"model_info":{"id":"db-1"}}
            """);
        Assert.Equal("db-1", created.GetProperty("model_id").GetString());
        Assert.Equal("***", created.GetProperty("litellm_params").GetProperty("api_key").GetString());

        Assert.True(await Eventually.TrueAsync(async () => (await _keys.ChatAsync(Configs.MasterKey, "db-model")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(10)), "the stored model should serve without a restart");
        var info = await ModelInfoAsync();
        Assert.True(info["db-1"].GetProperty("model_info").GetProperty("db_model").GetBoolean());
        Assert.False(info.Values.First(m => m.GetProperty("model_name").GetString() == "qwen3-8b").GetProperty("model_info").GetProperty("db_model").GetBoolean());
        Assert.DoesNotContain("sk-upstream-secret", JsonSerializer.Serialize(info));

        await _keys.RestartAsync();
        Assert.True(await Eventually.TrueAsync(async () => (await _keys.ChatAsync(Configs.MasterKey, "db-model")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(10)), "the stored model should be back after a restart");
    }

    [Fact]
    public async Task Updated_and_deleted_models_apply_without_a_restart()
    {
        await _keys.AdminOkAsync(HttpMethod.Post, "/model/new", $$$"""
            {"model_name":"db-model","litellm_params":{"model":"hosted_vllm/db","api_base":"{{{_keys.Upstream.BaseUrl}}}"},"model_info":{"id":"db-2"}}
            """);
        await _keys.AdminOkAsync(HttpMethod.Post, "/model/update", """{"model_info":{"id":"db-2"},"litellm_params":{"input_cost_per_token":2}}""");
        Assert.True(await Eventually.TrueAsync(async () => (await ModelInfoAsync()).TryGetValue("db-2", out var m)
            && m.GetProperty("litellm_params").GetProperty("input_cost_per_token").GetDouble() == 2, TimeSpan.FromSeconds(10)));

        var deleted = await _keys.AdminOkAsync(HttpMethod.Post, "/model/delete", """{"id":"db-2"}""");
        Assert.Contains("deleted", deleted.GetProperty("message").GetString());
        Assert.True(await Eventually.TrueAsync(async () => (await _keys.ChatAsync(Configs.MasterKey, "db-model")).StatusCode == HttpStatusCode.BadRequest,
            TimeSpan.FromSeconds(10)), "a deleted model should be gone");
    }

    [Fact]
    public async Task Model_that_would_not_load_is_refused_and_not_stored()
    {
        var (status, body) = await _keys.AdminAsync(HttpMethod.Post, "/model/new",
            """{"model_name":"broken","litellm_params":{"model":"hosted_vllm/x","api_base":"not a url"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("api_base", body.GetProperty("error").GetProperty("message").GetString());
        Assert.DoesNotContain(await ModelInfoAsync(), m => m.Value.GetProperty("model_name").GetString() == "broken");
    }

    private async Task<Dictionary<string, JsonElement>> ModelInfoAsync()
    {
        var body = await _keys.AdminOkAsync(HttpMethod.Get, "/model/info");
        return body.GetProperty("data").EnumerateArray().ToDictionary(m => m.GetProperty("model_info").GetProperty("id").GetString()!);
    }
}
