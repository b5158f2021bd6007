using System.Net;
using System.Text.Json;
using FakeUpstream;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Proxy.Admin.Models;
using Proxy.Admin.Storage;
using Proxy.IntegrationTests.Infrastructure;
using Proxy.IntegrationTests.Keys;

namespace Proxy.IntegrationTests.Security;

/// <summary>
/// Issue 13, item 4: a model stored through the admin API cannot read the gateway's environment or reach the host's
/// network, and its api_key is encrypted in the database and never shown.
/// </summary>
public sealed class StoredModelSecurityTests : IAsyncLifetime
{
    private const string DatabaseSecret = "postgres://admin:hunter2-db-password@db:5432/litellm";
    private const string UpstreamSecret = "sk-upstream-from-env-5150";

    private FakeUpstreamServer _upstream = null!;
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstreamServer.StartAsync();
        _gateway = await StartAsync("");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private Task<GatewayInstance> StartAsync(string extraGeneral) => GatewayInstance.StartAsync(
        KeysGateway.Config(_upstream.BaseUrl, "  store_model_in_db: true\n  stored_model_env_allowlist: [UPSTREAM_KEY]\n" + extraGeneral),
        new Dictionary<string, string?> { ["DATABASE_PASSWORD_URL"] = DatabaseSecret, ["UPSTREAM_KEY"] = UpstreamSecret, ["OTHER_KEY"] = "sk-other-secret-77" });

    [Fact]
    public async Task Os_environ_in_mock_response_is_refused_and_the_value_is_never_shown()
    {
        var (status, text) = await NewAsync(_gateway, """
            {"model_name":"leak","litellm_params":{"model":"openai/leak","mock_response":"os.environ/DATABASE_PASSWORD_URL"}}
            """);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("os.environ/", text);
        Assert.DoesNotContain("hunter2", text);

        using var chat = await _gateway.Http.SendAsync(_gateway.Post("/v1/chat/completions",
            """{"model":"leak","messages":[{"role":"user","content":"hi"}]}""", Configs.MasterKey));
        var answer = await chat.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, chat.StatusCode);
        Assert.DoesNotContain("hunter2", answer);
    }

    [Fact]
    public async Task Os_environ_is_read_only_in_api_key_and_only_for_allowlisted_names()
    {
        var (refused, text) = await NewAsync(_gateway, $$$"""
            {"model_name":"env-model","litellm_params":{"model":"hosted_vllm/x","api_base":"http://upstream.example:8000/v1","api_key":"os.environ/OTHER_KEY"}}
            """);
        Assert.Equal(HttpStatusCode.BadRequest, refused);
        Assert.Contains("stored_model_env_allowlist", text);
        Assert.DoesNotContain("sk-other-secret", text);

        var (apiBase, baseText) = await NewAsync(_gateway, """
            {"model_name":"env-model","litellm_params":{"model":"hosted_vllm/x","api_base":"os.environ/UPSTREAM_KEY"}}
            """);
        Assert.Equal(HttpStatusCode.BadRequest, apiBase);
        Assert.DoesNotContain(UpstreamSecret, baseText);

        var (allowed, allowedText) = await NewAsync(_gateway, """
            {"model_name":"env-model","litellm_params":{"model":"hosted_vllm/x","api_base":"http://upstream.example:8000/v1","api_key":"os.environ/UPSTREAM_KEY"}}
            """);
        Assert.True(allowed == HttpStatusCode.OK, allowedText);
        Assert.DoesNotContain(UpstreamSecret, allowedText);
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://127.0.0.1:8000/v1")]
    [InlineData("http://127.1:8000/v1")]
    [InlineData("http://10.0.0.5/v1")]
    [InlineData("http://192.168.1.10:8000/v1")]
    [InlineData("http://[::1]:8000/v1")]
    [InlineData("http://[fd00:ec2::254]/v1")]
    [InlineData("http://[::ffff:169.254.169.254]/v1")]
    [InlineData("http://100.100.100.200/v1")]
    [InlineData("http://metadata.google.internal/computeMetadata/v1")]
    [InlineData("http://user:pass@upstream.example:8000/v1")]
    public async Task Internal_or_credentialed_api_base_is_refused(string apiBase)
    {
        var (status, text) = await NewAsync(_gateway, $$$"""
            {"model_name":"internal","litellm_params":{"model":"hosted_vllm/x","api_base":"{{{apiBase}}}"}}
            """);
        Assert.True(status == HttpStatusCode.BadRequest, text);
        Assert.Contains("api_base", text);
    }

    [Fact]
    public async Task A_name_that_resolves_to_loopback_is_refused_when_connecting_unless_the_operator_allows_it()
    {
        // "localhost" passes the store-time check (names are judged on the addresses they resolve to when connecting).
        var apiBase = "http://localhost:" + _upstream.Port + "/v1";
        var (status, text) = await NewAsync(_gateway, $$$"""
            {"model_name":"rebinding","litellm_params":{"model":"hosted_vllm/x","api_base":"{{{apiBase}}}"}}
            """);
        Assert.True(status == HttpStatusCode.OK, text);
        using var refused = await ChatWhenServedAsync(_gateway, "rebinding");
        var body = await refused.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        Assert.Contains("stored_model_allow_private_api_base", body);
        Assert.Equal(0, _upstream.CountFor("/v1/chat/completions"));

        await _gateway.DisposeAsync();
        _gateway = await StartAsync("  stored_model_allow_private_api_base: true\n");
        var (again, againText) = await NewAsync(_gateway, $$$"""
            {"model_name":"rebinding","litellm_params":{"model":"hosted_vllm/x","api_base":"{{{apiBase}}}"}}
            """);
        Assert.True(again == HttpStatusCode.OK, againText);
        using var served = await ChatWhenServedAsync(_gateway, "rebinding");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task Stored_api_key_is_encrypted_at_rest_masked_in_answers_and_sent_upstream()
    {
        await _gateway.DisposeAsync();
        _gateway = await StartAsync("  stored_model_allow_private_api_base: true\n");
        const string key = "sk-stored-upstream-key-9931";
        var (status, text) = await NewAsync(_gateway, $$$"""
            {"model_name":"secret-model","litellm_params":{"model":"hosted_vllm/x","api_base":"{{{_upstream.BaseUrl}}}","api_key":"{{{key}}}","aws_secret_access_key":"abc"},"model_info":{"id":"secret-1"}}
            """);
        Assert.True(status == HttpStatusCode.OK, text);
        Assert.DoesNotContain(key, text);
        Assert.DoesNotContain("\"abc\"", text);

        var store = _gateway.Services.GetRequiredService<IKeyStore>();
        var row = Assert.Single(await store.ListModelsAsync(CancellationToken.None), r => r.ModelId == "secret-1");
        Assert.DoesNotContain(key, row.LitellmParams);
        Assert.Contains(StoredSecretCipher.Prefix, row.LitellmParams);
        foreach (var file in Directory.GetFiles(_gateway.Directory, "gateway.db*"))
        {
            Assert.DoesNotContain(key, await File.ReadAllTextAsync(file));
        }

        using var chat = await ChatWhenServedAsync(_gateway, "secret-model");
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Contains(_upstream.Requests, r => r.Headers.TryGetValue("Authorization", out var auth) && auth == "Bearer " + key);

        using var info = await _gateway.Http.SendAsync(Get("/model/info"));
        Assert.DoesNotContain(key, await info.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_plaintext_row_from_before_encryption_still_serves_and_is_encrypted_by_the_next_sync()
    {
        await _gateway.DisposeAsync();
        _gateway = await StartAsync("  stored_model_allow_private_api_base: true\n");
        const string key = "sk-legacy-plaintext-4410";
        var store = _gateway.Services.GetRequiredService<IKeyStore>();
        await store.UpsertModelAsync(new ModelRow
        {
            ModelId = "legacy-1",
            ModelName = "legacy-model",
            LitellmParams = $$$"""{"model":"hosted_vllm/x","api_base":"{{{_upstream.BaseUrl}}}","api_key":"{{{key}}}"}""",
            ModelInfo = """{"id":"legacy-1","db_model":true}""",
        }, CancellationToken.None);
        var sync = _gateway.Services.GetServices<IHostedService>().OfType<StoredModelSync>().Single();
        await sync.SyncAsync(CancellationToken.None);

        var row = Assert.Single(await store.ListModelsAsync(CancellationToken.None), r => r.ModelId == "legacy-1");
        Assert.DoesNotContain(key, row.LitellmParams);
        using var chat = await ChatWhenServedAsync(_gateway, "legacy-model");
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Contains(_upstream.Requests, r => r.Headers.TryGetValue("Authorization", out var auth) && auth == "Bearer " + key);
    }

    private static async Task<(HttpStatusCode Status, string Text)> NewAsync(GatewayInstance gateway, string json)
    {
        using var response = await gateway.Http.SendAsync(gateway.Post("/model/new", json, Configs.MasterKey));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static HttpRequestMessage Get(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Configs.MasterKey);
        return request;
    }

    // A stored model applies through a new snapshot; until then its group is unknown (400).
    private static async Task<HttpResponseMessage> ChatWhenServedAsync(GatewayInstance gateway, string model)
    {
        HttpResponseMessage? last = null;
        await Eventually.TrueAsync(async () =>
        {
            last?.Dispose();
            last = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions",
                $$$"""{"model":"{{{model}}}","messages":[{"role":"user","content":"hi"}],"max_tokens":2}""", Configs.MasterKey));
            return last.StatusCode != HttpStatusCode.BadRequest || !(await last.Content.ReadAsStringAsync()).Contains("Invalid model name", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(10));
        return last!;
    }
}
