using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Endpoints;

/// <summary>
/// Two fake vLLM servers and a gateway with virtual keys (embedded store) in front of them: each model group has a
/// deployment on the first (order 1, tried first) and one on the second (order 2), so a failing first server shows
/// a retry on the second. Prices are exact in binary so costs compare exactly.
/// </summary>
public sealed class FleetGateway : IAsyncDisposable
{
    public const double PerQuery = 0.5;
    public const double PerToken = 0.125;
    public const double PerSecond = 0.25;

    private FleetGateway(FakeUpstreamServer first, FakeUpstreamServer second, GatewayInstance gateway)
    {
        First = first;
        Second = second;
        Gateway = gateway;
    }

    public FakeUpstreamServer First { get; }

    public FakeUpstreamServer Second { get; }

    public GatewayInstance Gateway { get; }

    public HttpClient Http => Gateway.Http;

    public static string Config(string first, string second, string extraModels = "", string extraRouter = "", string extraGeneral = "") => $$"""
        model_list:
        {{Pair("reranker", "hosted_vllm/BAAI/bge-reranker-v2-m3", "rerank", first, second, $"input_cost_per_query: {PerQuery}")}}
        {{Pair("scorer", "hosted_vllm/BAAI/bge-reranker-base", "score", first, second, $"input_cost_per_token: {PerToken}")}}
        {{Pair("embedder", "hosted_vllm/intfloat/e5-small", "embed", first, second, $"input_cost_per_token: {PerToken}")}}
        {{Pair("whisper", "hosted_vllm/openai/whisper-large-v3", "whisper", first, second, $"input_cost_per_second: {PerSecond}")}}
        {{Pair("qwen", "hosted_vllm/Qwen/Qwen3-8B", "qwen", first, second, "")}}
        {{extraModels}}
        router_settings:
          num_retries: 2
        {{extraRouter}}
        general_settings:
          master_key: {{Configs.MasterKey}}
          proxy_batch_write_at: 0.1
          max_request_size_mb: 80
        {{extraGeneral}}
        """;

    public static async Task<FleetGateway> StartAsync(string extraModels = "", string extraRouter = "", string extraGeneral = "", IDictionary<string, string?>? environment = null)
    {
        var first = await FakeUpstreamServer.StartAsync();
        var second = await FakeUpstreamServer.StartAsync();
        var gateway = await GatewayInstance.StartAsync(Config(first.BaseUrl, second.BaseUrl, extraModels, extraRouter, extraGeneral), environment);
        return new FleetGateway(first, second, gateway);
    }

    private static string Pair(string group, string model, string id, string first, string second, string price) => $"""
          - model_name: {group}
            litellm_params:
              model: {model}
              api_base: {first}
              order: 1
              {price}
            model_info:
              id: {id}-a
          - model_name: {group}
            litellm_params:
              model: {model}
              api_base: {second}
              order: 2
              {price}
            model_info:
              id: {id}-b
        """;

    public async Task<string> GenerateKeyAsync(string json = "{}")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/key/generate") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Configs.MasterKey);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var body = JsonDocument.Parse(text);
        return body.RootElement.GetProperty("key").GetString()!;
    }

    public Task<HttpResponseMessage> PostJsonAsync(string path, string json, string key) => Http.SendAsync(Gateway.Post(path, json, key));

    /// <summary>The key's spend-log rows, once <paramref name="count"/> of them are written (the writer batches every 0.1 s).</summary>
    public async Task<JsonElement[]> SpendLogsAsync(string key, int count = 1)
    {
        JsonElement[] rows = [];
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/spend/logs?api_key=" + Uri.EscapeDataString(key));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Configs.MasterKey);
            using var response = await Http.SendAsync(request);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            rows = [.. body.RootElement.EnumerateArray().Select(row => row.Clone())];
            return rows.Length >= count;
        }, TimeSpan.FromSeconds(10)), $"expected {count} spend-log row(s), found {rows.Length}");
        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await First.DisposeAsync();
        await Second.DisposeAsync();
    }
}
