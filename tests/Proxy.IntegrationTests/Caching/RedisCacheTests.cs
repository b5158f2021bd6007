using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Proxy.IntegrationTests.Infrastructure;
using Proxy.Transforms.Caching;

namespace Proxy.IntegrationTests.Caching;

/// <summary>The response cache on the test Redis: hits, keys, per-request controls, streams.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisCacheTests : CacheTestBase
{
    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Miss_then_hit_answers_from_the_cache_without_calling_the_upstream()
    {
        var first = await PostAsync(Chat("miss then hit"));
        await StoredAsync(1);

        var second = await PostAsync(Chat("miss then hit"));

        Assert.False(first.Hit);
        Assert.True(second.Hit);
        Assert.StartsWith(Namespace + ":", second.CacheKey, StringComparison.Ordinal);
        Assert.Matches("^[^:]+:[0-9a-f]{64}$", second.CacheKey);
        Assert.Equal(first.Body, second.Body);
        Assert.Equal(1, UpstreamCalls);
        if (!GatewayInstance.IsProcess)
        {
            Assert.Equal(1, Stats.Hits);
        }

        // The same facts on /metrics (all a gateway running as its own process shows): LiteLLM's per-model hit/miss series and the cache's own event counters.
        var metrics = await PrometheusText.ScrapeAsync(Gateway.Http);
        Assert.Equal(1, metrics.Value("litellm_cache_hits_metric_total"));
        Assert.Equal(1, metrics.Value("litellm_cache_misses_metric_total"));
        Assert.Equal(1, metrics.Value("gateway_cache_events_total", ("event", "hit")));
        Assert.Equal(1, metrics.Value("gateway_cache_events_total", ("event", "store")));
        Assert.Equal(0, metrics.Value("litellm_spend_metric_total"));
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Hit_is_marked_with_zero_cost_and_the_model_group()
    {
        await PostAsync(Chat("cost"));
        await StoredAsync(1);

        using var response = await Gateway.Http.SendAsync(Gateway.Post(ChatPath, Chat("cost"), Configs.MasterKey));

        Assert.Equal("0", response.Headers.GetValues("x-litellm-response-cost").Single());
        Assert.Equal("qwen3-8b", response.Headers.GetValues("x-litellm-model-group").Single());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Same_request_with_keys_in_another_order_hits()
    {
        await PostAsync("""{"model":"qwen3-8b","temperature":0.5,"messages":[{"role":"user","content":"order"}],"max_tokens":12}""");
        await StoredAsync(1);

        var reordered = await PostAsync("""{ "max_tokens": 12, "messages": [ {"content": "order", "role": "user"} ], "temperature": 0.5, "model": "qwen3-8b" }""");
        var otherTemperature = await PostAsync("""{"model":"qwen3-8b","temperature":0.7,"messages":[{"role":"user","content":"order"}],"max_tokens":12}""");

        Assert.True(reordered.Hit);
        Assert.False(otherTemperature.Hit);
        Assert.Equal(2, UpstreamCalls);
    }

    [Fact]
    public async Task Litellm_only_fields_do_not_change_the_key_and_are_not_sent_upstream()
    {
        await PostAsync(Chat("extras"));
        await StoredAsync(1);

        var withExtras = await PostAsync(Chat("extras", ""","metadata":{"trace":"x"},"num_retries":1,"cache":{"ttl":60}"""));

        Assert.True(withExtras.Hit);
        var sent = Upstream.Requests.Single(r => r.Path == ChatPath);
        Assert.DoesNotContain("\"cache\"", sent.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ttl_from_the_config_expires_entries()
    {
        await using var gateway = await GatewayInstance.StartAsync(ConfigFor(Upstream.BaseUrl, RedisParams("ttl: 1")));
        await SendAsync(gateway, Chat("config ttl"));

        // Redis expires the key after a second; until then requests hit.
        Assert.True(await Eventually.TrueAsync(async () => !(await SendAsync(gateway, Chat("config ttl"))).Hit, TimeSpan.FromSeconds(10)));
        Assert.True(UpstreamCalls >= 2);
    }

    [Fact]
    public async Task Per_request_ttl_expires_the_entry()
    {
        await PostAsync(Chat("request ttl", ""","cache":{"ttl":1}"""));
        await StoredAsync(1);
        Assert.True((await PostAsync(Chat("request ttl"))).Hit);

        Assert.True(await Eventually.TrueAsync(async () => !(await PostAsync(Chat("request ttl"))).Hit, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task No_cache_skips_the_lookup_but_stores_the_fresh_answer()
    {
        var first = await PostAsync(Chat("no-cache"));
        await StoredAsync(1);

        var fresh = await PostAsync(Chat("no-cache", ""","cache":{"no-cache":true}"""));
        await StoredAsync(2);
        var after = await PostAsync(Chat("no-cache"));

        Assert.False(fresh.Hit);
        Assert.Equal(2, UpstreamCalls);
        Assert.True(after.Hit);
        Assert.Equal(fresh.Body, after.Body);
        Assert.NotEqual(first.Body, after.Body);
    }

    [Fact]
    public async Task No_store_answers_without_storing()
    {
        await PostAsync(Chat("no-store", ""","cache":{"no-store":true}"""));
        var second = await PostAsync(Chat("no-store"));

        Assert.False(second.Hit);
        Assert.Equal(2, UpstreamCalls);
    }

    [Fact]
    public async Task S_maxage_refuses_entries_that_are_too_old()
    {
        await PostAsync(Chat("maxage"));
        await StoredAsync(1);

        var young = await PostAsync(Chat("maxage", ""","cache":{"s-maxage":600}"""));
        var tooOld = await Eventually.TrueAsync(async () => !(await PostAsync(Chat("maxage", ""","cache":{"s-maxage":0.2}"""))).Hit, TimeSpan.FromSeconds(10));

        Assert.True(young.Hit);
        Assert.True(tooOld);
    }

    [Fact]
    public async Task Namespace_keeps_entries_apart()
    {
        await PostAsync(Chat("namespaced"));
        await StoredAsync(1);

        var other = await PostAsync(Chat("namespaced", ""","cache":{"namespace":"other-ns"}"""));
        await StoredAsync(2);
        var otherAgain = await PostAsync(Chat("namespaced", ""","cache":{"namespace":"other-ns"}"""));

        Assert.False(other.Hit);
        Assert.True(otherAgain.Hit);
        Assert.StartsWith("other-ns:", otherAgain.CacheKey, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cache_control_header_no_cache_skips_the_lookup()
    {
        await PostAsync(Chat("header"));
        await StoredAsync(1);

        var fresh = await PostAsync(Chat("header"), configure: r => r.Headers.Add("Cache-Control", "no-cache"));
        var noStore = await PostAsync(Chat("header store"), configure: r => r.Headers.Add("Cache-Control", "no-store"));
        var afterNoStore = await PostAsync(Chat("header store"));

        Assert.False(fresh.Hit);
        Assert.False(afterNoStore.Hit);
        Assert.False(noStore.Hit);
        Assert.Equal(4, UpstreamCalls);
    }

    [Fact]
    public async Task Streamed_answer_is_stored_and_replayed_as_sse_with_the_same_content()
    {
        var body = Chat("stream me", ""","stream":true""");
        var first = await PostAsync(body);
        await StoredAsync(1);

        var replay = await PostAsync(body);

        Assert.False(first.Hit);
        Assert.True(replay.Hit);
        Assert.Equal("text/event-stream", replay.MediaType);
        Assert.EndsWith("data: [DONE]\n\n", replay.Body, StringComparison.Ordinal);
        Assert.NotEmpty(StreamedText(first.Body));
        Assert.Equal(StreamedText(first.Body), StreamedText(replay.Body));
        Assert.Equal(1, UpstreamCalls);
    }

    [Fact]
    public async Task Streamed_miss_answers_a_later_non_streamed_request()
    {
        var streamed = await PostAsync(Chat("cross one", ""","stream":true"""));
        await StoredAsync(1);

        var plain = await PostAsync(Chat("cross one"));

        Assert.True(plain.Hit);
        using var document = JsonDocument.Parse(plain.Body);
        Assert.Equal("chat.completion", document.RootElement.GetProperty("object").GetString());
        Assert.Equal(JsonValueKind.String, document.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind);
        Assert.Equal(StreamedText(streamed.Body), MessageText(plain.Body));
    }

    [Fact]
    public async Task Non_streamed_miss_answers_a_later_streamed_request_with_usage_when_asked()
    {
        var plain = await PostAsync(Chat("cross two"));
        await StoredAsync(1);

        var streamed = await PostAsync(Chat("cross two", ""","stream":true,"stream_options":{"include_usage":true}"""));

        Assert.True(streamed.Hit);
        Assert.Equal(MessageText(plain.Body), StreamedText(streamed.Body));
        var events = streamed.Body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        using var usage = JsonDocument.Parse(events[^2]["data: ".Length..]);
        Assert.True(usage.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task Official_sdk_reads_a_replayed_stream()
    {
        var chat = Sdk.Client(Gateway).GetChatClient("qwen3-8b");
        var original = await chat.CompleteChatAsync("sdk stream");
        await StoredAsync(1);

        var text = new System.Text.StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync("sdk stream"))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.Equal(original.Value.Content[0].Text, text.ToString());
        Assert.Equal(1, UpstreamCalls);
    }

    [Fact]
    public async Task Embeddings_are_cached()
    {
        const string body = """{"model":"qwen3-8b","input":["cache this text"]}""";
        var first = await PostAsync(body, "/v1/embeddings");
        await StoredAsync(1);

        var second = await PostAsync(body, "/v1/embeddings");

        Assert.True(second.Hit);
        Assert.Equal(first.Body, second.Body);
        Assert.Equal(1, Upstream.CountFor("/v1/embeddings"));
    }

    [Fact]
    public async Task Answers_larger_than_max_item_kb_are_skipped()
    {
        await using var gateway = await GatewayInstance.StartAsync(ConfigFor(Upstream.BaseUrl, RedisParams("max_item_kb: 1")));
        var stats = gateway.Services.GetRequiredService<CacheStats>();

        var large = Chat("large", maxTokens: 600);
        await SendAsync(gateway, large);
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(stats.SkippedTooLarge == 1), TimeSpan.FromSeconds(10)));
        var again = await SendAsync(gateway, large);
        await SendAsync(gateway, Chat("small", maxTokens: 2));

        Assert.False(again.Hit);
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(stats.Stores == 1), TimeSpan.FromSeconds(10)));
        Assert.Equal(2, stats.SkippedTooLarge);
    }

    [Fact]
    public async Task Cache_ping_reports_redis_in_litellm_shape()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/cache/ping");
        request.Headers.Add("Authorization", "Bearer " + Configs.MasterKey);
        using var response = await Gateway.Http.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = body.RootElement;
        Assert.Equal("healthy", root.GetProperty("status").GetString());
        Assert.Equal("redis", root.GetProperty("cache_type").GetString());
        Assert.True(root.GetProperty("ping_response").GetBoolean());
        Assert.Equal("success", root.GetProperty("set_cache_response").GetString());
        Assert.Equal(Namespace, root.GetProperty("litellm_cache_params").GetProperty("namespace").GetString());
        Assert.Equal(TestServices.Redis, root.GetProperty("redis_cache_params").GetProperty("redis_endpoint").GetString());
    }

    [Fact]
    public async Task Cache_delete_removes_the_key_from_the_header()
    {
        await PostAsync(Chat("delete me"));
        await StoredAsync(1);
        var hit = await PostAsync(Chat("delete me"));

        using var delete = Gateway.Post("/cache/delete", JsonSerializer.Serialize(new { keys = new[] { hit.CacheKey } }), Configs.MasterKey);
        using var response = await Gateway.Http.SendAsync(delete);
        var after = await PostAsync(Chat("delete me"));

        Assert.Equal("""{"status":"success"}""", await response.Content.ReadAsStringAsync());
        Assert.False(after.Hit);
    }

    [Fact]
    public async Task Readiness_names_the_cache_and_its_state()
    {
        using var body = JsonDocument.Parse(await Gateway.Http.GetStringAsync("/health/readiness"));

        Assert.Equal("redis", body.RootElement.GetProperty("cache").GetString());
        Assert.Equal("connected", body.RootElement.GetProperty("cache_status").GetProperty("status").GetString());
    }

    private static async Task<Answer> SendAsync(GatewayInstance gateway, string json)
    {
        using var response = await gateway.Http.SendAsync(gateway.Post(ChatPath, json, Configs.MasterKey));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var key = response.Headers.TryGetValues("x-litellm-cache-key", out var values) ? values.Single() : null;
        return new Answer(body, key, response.Content.Headers.ContentType?.MediaType);
    }
}
