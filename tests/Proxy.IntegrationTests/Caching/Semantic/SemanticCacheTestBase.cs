using System.Net.Http.Headers;
using System.Text;
using FakeUpstream;
using Microsoft.Extensions.DependencyInjection;
using Proxy.IntegrationTests.Infrastructure;
using Proxy.Transforms.Caching.Semantic;

namespace Proxy.IntegrationTests.Caching.Semantic;

/// <summary>
/// A fake vLLM serving chat and bag-of-words embeddings (384 dimensions: similarity follows shared content words) and
/// a gateway whose semantic cache embeds through its own model group <c>embed</c>.
/// </summary>
public abstract class SemanticCacheTestBase : IAsyncLifetime
{
    protected const string ChatPath = "/v1/chat/completions";
    protected const string EmbeddingsPath = "/v1/embeddings";
    protected const string SimilarityHeader = "x-litellm-semantic-similarity";

    protected FakeUpstreamServer Upstream { get; private set; } = null!;

    protected GatewayInstance Gateway { get; set; } = null!;

    protected SemanticCacheStats Stats => StatsOf(Gateway);

    /// <summary>The <c>cache_params</c> lines (without indentation).</summary>
    protected abstract string CacheParams { get; }

    public virtual async Task InitializeAsync()
    {
        Upstream = await StartUpstreamAsync();
        Gateway = await GatewayInstance.StartAsync(ConfigFor(Upstream.BaseUrl, Upstream.BaseUrl, CacheParams));
    }

    public virtual async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }

    protected static SemanticCacheStats StatsOf(GatewayInstance gateway) => gateway.Services.GetRequiredService<SemanticCacheStats>();

    protected static Task<FakeUpstreamServer> StartUpstreamAsync() =>
        FakeUpstreamServer.StartAsync(new FakeUpstreamOptions { EmbeddingMode = FakeEmbeddingMode.BagOfWords, EmbeddingDimensions = 384 });

    /// <summary>Chat groups qwen3-8b and other-model on <paramref name="chatBase"/>, the embedding group embed on <paramref name="embedBase"/>.</summary>
    protected static string ConfigFor(string chatBase, string embedBase, string cacheParams, string extraSections = "")
    {
        var indented = string.Join("\n", cacheParams.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => "    " + line));
        return $$"""
            model_list:
              - model_name: qwen3-8b
                litellm_params:
                  model: hosted_vllm/Qwen/Qwen3-8B
                  api_base: {{chatBase}}
                  api_key: {{Configs.UpstreamKey}}
              - model_name: other-model
                litellm_params:
                  model: hosted_vllm/other
                  api_base: {{chatBase}}
              - model_name: embed
                litellm_params:
                  model: hosted_vllm/BAAI/bge-small-en-v1.5
                  api_base: {{embedBase}}
                  api_key: {{Configs.UpstreamKey}}
            router_settings:
              num_retries: 0
            litellm_settings:
              cache: true
              cache_params:
            {{indented}}
            general_settings:
              master_key: {{Configs.MasterKey}}
            {{extraSections}}
            """;
    }

    protected static string Chat(string prompt, string extra = "", string model = "qwen3-8b") =>
        $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{prompt}}"}],"max_tokens":12{{extra}}}""";

    protected Task<Answer> PostAsync(string json, string? key = Configs.MasterKey, string path = ChatPath) => PostAsync(Gateway, json, key, path);

    protected static async Task<Answer> PostAsync(GatewayInstance gateway, string json, string? key = Configs.MasterKey, string path = ChatPath)
    {
        using var request = gateway.Post(path, json, key);
        using var response = await gateway.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return new Answer(body, Header(response, "x-litellm-cache-key"), Header(response, SimilarityHeader), response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>
    /// Waits until a miss's answer has been handed to the store (the tap runs as the last byte goes out) and, where this
    /// replica indexes vectors itself, until the index has applied it (its writer loop runs off the request path).
    /// </summary>
    protected static async Task StoredAsync(GatewayInstance gateway, long count)
    {
        var stats = StatsOf(gateway);
        var cache = gateway.Services.GetRequiredService<SemanticCache>();
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(stats.Stores >= count && (cache.IndexedEntries is not { } indexed || indexed < 0 || indexed >= count)),
            TimeSpan.FromSeconds(10)), $"expected {count} stored answers, have {stats.Stores} ({cache.IndexedEntries} indexed)");
    }

    protected Task StoredAsync(long count) => StoredAsync(Gateway, count);

    protected int ChatCalls => Upstream.CountFor(ChatPath);

    protected int EmbeddingCalls => Upstream.CountFor(EmbeddingsPath);

    protected static async Task<string> PingAsync(GatewayInstance gateway)
    {
        using var ping = new HttpRequestMessage(HttpMethod.Get, "/cache/ping");
        ping.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Configs.MasterKey);
        using var response = await gateway.Http.SendAsync(ping);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return body;
    }

    protected static string MessageText(string json)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        return document.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : null;

    protected sealed record Answer(string Body, string? CacheKey, string? Similarity, string? MediaType)
    {
        public bool Hit => CacheKey is not null;

        public double SimilarityValue => double.Parse(Similarity ?? "NaN", System.Globalization.CultureInfo.InvariantCulture);

        public override string ToString() => new StringBuilder().Append("hit=").Append(Hit).Append(" similarity=").Append(Similarity).ToString();
    }
}
