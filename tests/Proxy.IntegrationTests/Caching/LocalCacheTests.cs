using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Proxy.IntegrationTests.Infrastructure;
using Proxy.Transforms.Caching;

namespace Proxy.IntegrationTests.Caching;

/// <summary>The in-process (<c>type: local</c>) cache, the opt-in mode, the admin routes and reloads.</summary>
public sealed class LocalCacheTests : CacheTestBase
{
    protected override string CacheParams => "type: local\nmax_memory_kb: 8\n";

    [Fact]
    public async Task Local_cache_hits_and_stays_within_its_memory_bound()
    {
        await PostAsync(Chat("local"));
        await StoredAsync(1);
        Assert.True((await PostAsync(Chat("local"))).Hit);

        // Each answer is ~1 KB: 20 of them cannot all fit in 8 KB, so the oldest are evicted.
        for (var i = 0; i < 20; i++)
        {
            await PostAsync(Chat("filler " + i, maxTokens: 100));
        }

        await StoredAsync(21);
        var store = await PingParamsAsync();
        Assert.True(long.Parse(store.GetProperty("bytes_in_use").GetString()!, System.Globalization.CultureInfo.InvariantCulture) <= 8 * 1024);
        Assert.True(Stats.Evictions > 0);
        Assert.False((await PostAsync(Chat("local"))).Hit);
        Assert.True((await PostAsync(Chat("filler 19", maxTokens: 100))).Hit);
    }

    [Fact]
    public async Task Cache_ping_reports_the_local_cache()
    {
        using var response = await SendAsync(HttpMethod.Get, "/cache/ping");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("healthy", body.RootElement.GetProperty("status").GetString());
        Assert.Equal("local", body.RootElement.GetProperty("cache_type").GetString());
        Assert.Equal("local", body.RootElement.GetProperty("litellm_cache_params").GetProperty("type").GetString());
        Assert.False(body.RootElement.TryGetProperty("ping_response", out _));
    }

    [Fact]
    public async Task Cache_routes_need_a_key()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/cache/ping");
        using var response = await Gateway.Http.SendAsync(request);

        await ErrorAssert.IsOpenAiErrorAsync(response, 401);
    }

    [Fact]
    public async Task Flushall_empties_the_cache()
    {
        await PostAsync(Chat("flush"));
        await StoredAsync(1);

        using var response = await SendAsync(HttpMethod.Post, "/cache/flushall");
        var after = await PostAsync(Chat("flush"));

        Assert.Equal("""{"status":"success"}""", await response.Content.ReadAsStringAsync());
        Assert.False(after.Hit);
    }

    [Fact]
    public async Task Default_off_mode_caches_only_requests_that_opt_in()
    {
        await using var gateway = await GatewayInstance.StartAsync(ConfigFor(Upstream.BaseUrl, "type: local\nmode: default_off\n"));
        var stats = gateway.Services.GetRequiredService<CacheStats>();

        await SendChatAsync(gateway, Chat("opt in"));
        var plain = await SendChatAsync(gateway, Chat("opt in"));
        await SendChatAsync(gateway, Chat("opt in", ""","cache":{"use-cache":true}"""));
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(stats.Stores == 1), TimeSpan.FromSeconds(10)));
        var optedIn = await SendChatAsync(gateway, Chat("opt in", ""","cache":{"use-cache":true}"""));

        Assert.Null(plain);
        Assert.NotNull(optedIn);
        Assert.Equal(3, UpstreamCalls);
    }

    [Fact]
    public async Task Supported_call_types_limit_what_is_cached()
    {
        await using var gateway = await GatewayInstance.StartAsync(ConfigFor(Upstream.BaseUrl, "type: local\nsupported_call_types: [\"aembedding\"]\n"));

        await SendChatAsync(gateway, Chat("chat not cached"));
        var second = await SendChatAsync(gateway, Chat("chat not cached"));

        Assert.Null(second);
        Assert.Equal(2, UpstreamCalls);
    }

    [Fact]
    public async Task Without_a_cache_ping_says_it_is_not_initialised()
    {
        await using var gateway = await GatewayInstance.StartAsync(Configs.SingleUpstream(Upstream.BaseUrl));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/cache/ping");
        request.Headers.Add("Authorization", "Bearer " + Configs.MasterKey);

        using var response = await gateway.Http.SendAsync(request);

        Assert.Contains("Cache not initialized", await ErrorAssert.IsOpenAiErrorAsync(response, 503), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_that_turns_the_cache_off_takes_effect()
    {
        await PostAsync(Chat("reload"));
        await StoredAsync(1);
        Assert.True((await PostAsync(Chat("reload"))).Hit);

        await File.WriteAllTextAsync(Gateway.ConfigPath, Configs.SingleUpstream(Upstream.BaseUrl));

        Assert.True(await Eventually.TrueAsync(async () => !(await PostAsync(Chat("reload"))).Hit, TimeSpan.FromSeconds(20)));
        using var readiness = JsonDocument.Parse(await Gateway.Http.GetStringAsync("/health/readiness"));
        Assert.Equal(JsonValueKind.Null, readiness.RootElement.GetProperty("cache").ValueKind);
    }

    private async Task<JsonElement> PingParamsAsync()
    {
        using var response = await SendAsync(HttpMethod.Get, "/cache/ping");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("local_cache_params").Clone();
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Authorization", "Bearer " + Configs.MasterKey);
        return await Gateway.Http.SendAsync(request);
    }

    // The cache key of a hit, null for a miss.
    private static async Task<string?> SendChatAsync(GatewayInstance gateway, string json)
    {
        using var response = await gateway.Http.SendAsync(gateway.Post(ChatPath, json, Configs.MasterKey));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return response.Headers.TryGetValues("x-litellm-cache-key", out var values) ? values.Single() : null;
    }
}
