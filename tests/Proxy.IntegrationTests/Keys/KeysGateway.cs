using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Keys;

/// <summary>A fake vLLM and a gateway with virtual keys on (SQLite next to the config, or the given Postgres database).</summary>
public sealed class KeysGateway : IAsyncDisposable
{
    // Prices that are exact in binary, so that sums of costs can be compared exactly.
    public const double InputPrice = 0.5;
    public const double OutputPrice = 0.25;

    private readonly string _directory;

    private KeysGateway(FakeUpstreamServer upstream, GatewayInstance gateway, string? databaseUrl, string extraGeneral, string directory, string extraRouter)
    {
        ExtraRouter = extraRouter;
        _directory = directory;
        Upstream = upstream;
        Gateway = gateway;
        DatabaseUrl = databaseUrl;
        ExtraGeneral = extraGeneral;
    }

    public FakeUpstreamServer Upstream { get; }

    public GatewayInstance Gateway { get; private set; }

    public string? DatabaseUrl { get; }

    public string ExtraGeneral { get; }

    public string ExtraRouter { get; }

    public HttpClient Http => Gateway.Http;

    public static string Config(string baseUrl, string extraGeneral = "", string extraRouter = "") => $$"""
        model_list:
          - model_name: qwen3-8b
            litellm_params:
              model: hosted_vllm/Qwen/Qwen3-8B
              api_base: {{baseUrl}}
              input_cost_per_token: {{InputPrice.ToString(CultureInfo.InvariantCulture)}}
              output_cost_per_token: {{OutputPrice.ToString(CultureInfo.InvariantCulture)}}
          - model_name: other-model
            litellm_params:
              model: hosted_vllm/other
              api_base: {{baseUrl}}
            model_info:
              input_cost_per_token: 0.125
              output_cost_per_token: 1
        router_settings:
          num_retries: 0
          model_group_alias: {"gpt-alias": "qwen3-8b"}
        {{extraRouter}}
        general_settings:
          master_key: {{Configs.MasterKey}}
          proxy_batch_write_at: 0.1
        {{extraGeneral}}
        """;

    public static async Task<KeysGateway> StartAsync(string? databaseUrl = null, string extraGeneral = "", string extraRouter = "")
    {
        var upstream = await FakeUpstreamServer.StartAsync();
        // Our own folder, kept across restarts: a gateway that owned it would delete the embedded database on stop.
        var directory = Path.Combine(Path.GetTempPath(), "gw-keys-" + Guid.NewGuid().ToString("N"));
        var gateway = await GatewayInstance.StartAsync(Config(upstream.BaseUrl, extraGeneral, extraRouter), Environment(databaseUrl), directory);
        return new KeysGateway(upstream, gateway, databaseUrl, extraGeneral, directory, extraRouter);
    }

    /// <summary>Stops the gateway and starts a new one on the same folder and database (the upstream stays).</summary>
    public async Task RestartAsync()
    {
        await Gateway.DisposeAsync();
        Gateway = await GatewayInstance.StartAsync(Config(Upstream.BaseUrl, ExtraGeneral, ExtraRouter), Environment(DatabaseUrl), _directory);
    }

    private static Dictionary<string, string?> Environment(string? databaseUrl) =>
        databaseUrl is null ? [] : new() { ["DATABASE_URL"] = databaseUrl };

    public async Task<(HttpStatusCode Status, JsonElement Body)> AdminAsync(HttpMethod method, string path, string? json = null, string key = Configs.MasterKey)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text.Length == 0 ? "null" : text);
        return (response.StatusCode, document.RootElement.Clone());
    }

    public async Task<JsonElement> AdminOkAsync(HttpMethod method, string path, string? json = null)
    {
        var (status, body) = await AdminAsync(method, path, json);
        Assert.True(status == HttpStatusCode.OK, $"{path}: {(int)status} {body}");
        return body;
    }

    /// <summary>Creates a key and returns the key (shown once) and its hash.</summary>
    public async Task<(string Key, string Token)> GenerateAsync(string json = "{}")
    {
        var body = await AdminOkAsync(HttpMethod.Post, "/key/generate", json);
        return (body.GetProperty("key").GetString()!, body.GetProperty("token").GetString()!);
    }

    public Task<HttpResponseMessage> ChatAsync(string key, string model = "qwen3-8b", string extra = "")
    {
        var request = Gateway.Post("/v1/chat/completions",
            $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hello there"}],"max_tokens":4{{extra}}}""", key);
        return Http.SendAsync(request);
    }

    public async Task<JsonElement> KeyInfoAsync(string keyOrHash) =>
        (await AdminOkAsync(HttpMethod.Get, "/key/info?key=" + Uri.EscapeDataString(keyOrHash))).GetProperty("info");

    public async Task<JsonElement[]> SpendLogsAsync(string? apiKey = null)
    {
        var body = await AdminOkAsync(HttpMethod.Get, "/spend/logs" + (apiKey is null ? "" : "?api_key=" + Uri.EscapeDataString(apiKey)));
        return [.. body.EnumerateArray()];
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}
