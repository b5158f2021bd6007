using System.Text;
using System.Text.Json;
using FakeUpstream;
using Microsoft.Extensions.DependencyInjection;
using Proxy.IntegrationTests.Infrastructure;
using Proxy.Transforms.Caching;

namespace Proxy.IntegrationTests.Caching;

/// <summary>A fake vLLM and a gateway with the response cache on; each test gets its own Redis namespace.</summary>
public abstract class CacheTestBase : IAsyncLifetime
{
    protected const string ChatPath = "/v1/chat/completions";

    protected FakeUpstreamServer Upstream { get; private set; } = null!;

    protected GatewayInstance Gateway { get; private set; } = null!;

    /// <summary>A namespace no other test uses, so tests can share the one test Redis.</summary>
    protected string Namespace { get; } = "t" + Guid.NewGuid().ToString("N")[..12];

    protected CacheStats Stats => Gateway.Services.GetRequiredService<CacheStats>();

    /// <summary>The <c>cache_params</c> lines (without indentation).</summary>
    protected virtual string CacheParams => RedisParams();

    protected string RedisParams(string extra = "")
    {
        var (host, port) = RedisAddress();
        return $"type: redis\nhost: {host}\nport: {port}\nnamespace: {Namespace}\n{extra}";
    }

    protected static (string Host, string Port) RedisAddress()
    {
        var address = TestServices.Redis;
        var colon = address.LastIndexOf(':');
        return (address[..colon], address[(colon + 1)..]);
    }

    public virtual async Task InitializeAsync()
    {
        Upstream = await FakeUpstreamServer.StartAsync();
        Gateway = await GatewayInstance.StartAsync(ConfigFor(Upstream.BaseUrl, CacheParams));
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }

    protected static string ConfigFor(string baseUrl, string cacheParams, string litellmExtra = "")
    {
        var indented = string.Join("\n", cacheParams.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => "    " + line));
        return Configs.SingleUpstream(baseUrl, extraSections: $"litellm_settings:\n  cache: true\n{litellmExtra}  cache_params:\n{indented}\n");
    }

    protected static string Chat(string prompt, string extra = "", int maxTokens = 12) =>
        $$"""{"model":"qwen3-8b","messages":[{"role":"user","content":"{{prompt}}"}],"max_tokens":{{maxTokens}}{{extra}}}""";

    protected async Task<Answer> PostAsync(string json, string path = ChatPath, Action<HttpRequestMessage>? configure = null)
    {
        using var request = Gateway.Post(path, json, Configs.MasterKey);
        configure?.Invoke(request);
        using var response = await Gateway.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        var key = response.Headers.TryGetValues("x-litellm-cache-key", out var values) ? values.Single() : null;
        return new Answer(body, key, response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>Waits until the miss's answer has been handed to the store (the tap runs as the last byte goes out).</summary>
    protected async Task StoredAsync(long count)
    {
        Assert.True(await Eventually.TrueAsync(async () => await StoresAsync() >= count, TimeSpan.FromSeconds(10)),
            $"expected {count} stored answers, have {await StoresAsync()}");
    }

    /// <summary>Answers handed to the store: the in-process counter, or /metrics when the gateway is a binary of its own.</summary>
    private async Task<double> StoresAsync() => GatewayInstance.IsProcess
        ? (await PrometheusText.ScrapeAsync(Gateway.Http)).Value("gateway_cache_events_total", ("event", "store"))
        : Stats.Stores;

    protected int UpstreamCalls => Upstream.CountFor(ChatPath);

    /// <summary>The text of a streamed answer: every delta's content (or text), in order.</summary>
    protected static string StreamedText(string sse)
    {
        var text = new StringBuilder();
        foreach (var line in sse.Split('\n'))
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal))
            {
                continue;
            }

            using var chunk = JsonDocument.Parse(line["data: ".Length..]);
            foreach (var choice in chunk.RootElement.GetProperty("choices").EnumerateArray())
            {
                if (choice.TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                {
                    text.Append(content.GetString());
                }
                else if (choice.TryGetProperty("text", out var piece))
                {
                    text.Append(piece.GetString());
                }
            }
        }

        return text.ToString();
    }

    protected static string MessageText(string json)
    {
        using var document = JsonDocument.Parse(json);
        var choice = document.RootElement.GetProperty("choices")[0];
        return choice.TryGetProperty("message", out var message) ? message.GetProperty("content").GetString()! : choice.GetProperty("text").GetString()!;
    }

    protected sealed record Answer(string Body, string? CacheKey, string? MediaType)
    {
        public bool Hit => CacheKey is not null;
    }
}
