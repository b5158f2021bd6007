using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Caching.Semantic;

/// <summary>The semantic cache with local-semantic (no Redis): matching, scoping, controls, streams, faults, metrics.</summary>
public sealed class LocalSemanticCacheTests : SemanticCacheTestBase
{
    private const string Question = "What is the capital of France?";

    // Content words {capital, city, france} against {capital, france}: cosine 2 / sqrt(6) = 0.8165.
    private const string Paraphrase = "Tell me the capital city of France";

    protected override string CacheParams => """
        type: local-semantic
        similarity_threshold: 0.8
        redis_semantic_cache_embedding_model: embed
        """;

    [Fact]
    public async Task Paraphrase_is_answered_from_the_cache_with_its_similarity()
    {
        var first = await PostAsync(Chat(Question));
        await StoredAsync(1);

        var second = await PostAsync(Chat(Paraphrase));

        Assert.False(first.Hit);
        Assert.True(second.Hit, second.ToString());
        Assert.Equal(first.Body, second.Body);
        Assert.Equal(2 / Math.Sqrt(6), second.SimilarityValue, 3);
        Assert.Matches("^litellm_semantic_cache_index:[0-9a-f]{32}$", second.CacheKey);
        Assert.Equal(1, ChatCalls);
        // One embedding per request: the miss's (reused for its store) and the paraphrase's.
        Assert.Equal(2, EmbeddingCalls);
        Assert.Equal(1, Stats.Hits);
    }

    [Fact]
    public async Task Repeated_prompt_is_answered_without_an_embedding_call()
    {
        await PostAsync(Chat(Question));
        await StoredAsync(1);

        var again = await PostAsync(Chat(Question));

        Assert.True(again.Hit);
        Assert.Equal("1", again.Similarity);
        Assert.Equal(1, EmbeddingCalls);
        Assert.Equal(1, Stats.ExactHits);
    }

    [Fact]
    public async Task Same_prompt_with_another_model_group_or_other_parameters_misses()
    {
        await PostAsync(Chat(Question));
        await StoredAsync(1);

        var otherGroup = await PostAsync(Chat(Question, model: "other-model"));
        var otherTemperature = await PostAsync(Chat(Question, ""","temperature":0.9"""));
        var otherSystemPrompt = await PostAsync(
            """{"model":"qwen3-8b","messages":[{"role":"system","content":"Answer in French."},{"role":"user","content":"What is the capital of France?"}],"max_tokens":12}""");

        Assert.False(otherGroup.Hit);
        Assert.False(otherTemperature.Hit);
        Assert.False(otherSystemPrompt.Hit);
        Assert.Equal(4, ChatCalls);
    }

    [Fact]
    public async Task Unrelated_prompt_misses_and_reports_how_close_the_nearest_was()
    {
        await PostAsync(Chat(Question));
        await StoredAsync(1);

        var unrelated = await PostAsync(Chat("How do I bake sourdough bread?"));

        Assert.False(unrelated.Hit);
        Assert.True(unrelated.SimilarityValue < 0.3, unrelated.ToString());
        Assert.Equal(2, ChatCalls);
        Assert.Equal(2, Stats.Misses);
    }

    [Fact]
    public async Task No_cache_skips_the_lookup_but_stores_and_no_store_does_not_store()
    {
        await PostAsync(Chat(Question));
        await StoredAsync(1);

        var skipped = await PostAsync(Chat(Paraphrase, ""","cache":{"no-cache":true}"""));
        await StoredAsync(2);
        var notStored = await PostAsync(Chat("Which rivers flow through Berlin?", ""","cache":{"no-store":true}"""));
        var later = await PostAsync(Chat("Which rivers flow through Berlin?"));

        Assert.False(skipped.Hit);
        Assert.False(notStored.Hit);
        Assert.False(later.Hit);
        Assert.Equal(4, ChatCalls);
        // The paraphrase stored by the no-cache request is now an exact hit.
        Assert.True((await PostAsync(Chat(Paraphrase))).Hit);
        var sent = Upstream.Requests.Where(r => r.Path == ChatPath).ToList();
        Assert.All(sent, r => Assert.DoesNotContain("\"cache\"", r.Body, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Streamed_request_is_answered_by_replaying_the_stored_answer()
    {
        var first = await PostAsync(Chat(Question));
        await StoredAsync(1);

        var streamed = await PostAsync(Chat(Paraphrase, ""","stream":true"""));

        Assert.True(streamed.Hit);
        Assert.Equal("text/event-stream", streamed.MediaType);
        Assert.Equal(MessageText(first.Body), StreamedText(streamed.Body));
        Assert.EndsWith("data: [DONE]\n\n", streamed.Body, StringComparison.Ordinal);
        Assert.Equal(1, ChatCalls);
    }

    [Fact]
    public async Task Streamed_miss_is_stored_and_answers_a_plain_paraphrase()
    {
        var streamed = await PostAsync(Chat(Question, ""","stream":true"""));
        await StoredAsync(1);

        var plain = await PostAsync(Chat(Paraphrase));

        Assert.True(plain.Hit);
        Assert.Equal(StreamedText(streamed.Body), MessageText(plain.Body));
    }

    [Fact]
    public async Task Responses_store_false_prompts_are_matched_and_answered_as_responses()
    {
        await PostAsync("""{"model":"qwen3-8b","input":"What is the capital of France?","store":false}""", path: "/v1/responses");
        await StoredAsync(1);

        var paraphrase = await PostAsync("""{"model":"qwen3-8b","input":"Tell me the capital city of France","store":false}""", path: "/v1/responses");
        var stored = await PostAsync("""{"model":"qwen3-8b","input":"Tell me the capital city of France"}""", path: "/v1/responses");

        Assert.True(paraphrase.Hit, paraphrase.ToString());
        Assert.Equal("response", System.Text.Json.JsonDocument.Parse(paraphrase.Body).RootElement.GetProperty("object").GetString());
        Assert.False(stored.Hit);
        Assert.Equal(2, Upstream.CountFor("/v1/responses"));
    }

    [Fact]
    public async Task Completions_prompts_are_matched_too()
    {
        await PostAsync("""{"model":"qwen3-8b","prompt":"What is the capital of France?","max_tokens":5}""", path: "/v1/completions");
        await StoredAsync(1);

        var paraphrase = await PostAsync("""{"model":"qwen3-8b","prompt":"Tell me the capital city of France","max_tokens":5}""", path: "/v1/completions");

        Assert.True(paraphrase.Hit);
        Assert.Equal(1, Upstream.CountFor("/v1/completions"));
    }

    [Fact]
    public async Task Embeddings_requests_are_not_answered_by_similarity()
    {
        var first = await PostAsync("""{"model":"embed","input":"capital of France"}""", path: EmbeddingsPath);
        var second = await PostAsync("""{"model":"embed","input":"capital city of France"}""", path: EmbeddingsPath);

        Assert.False(first.Hit);
        Assert.False(second.Hit);
        Assert.Equal(2, EmbeddingCalls);
    }

    [Fact]
    public async Task Default_off_mode_embeds_only_requests_that_opt_in()
    {
        await using var gateway = await GatewayInstance.StartAsync(ConfigFor(Upstream.BaseUrl, Upstream.BaseUrl, CacheParams + "\nmode: default_off"));
        var plain = await PostAsync(gateway, Chat(Question));
        Assert.Equal(0, EmbeddingCalls);

        await PostAsync(gateway, Chat(Question, ""","cache":{"use-cache":true}"""));
        await StoredAsync(gateway, 1);
        var optedIn = await PostAsync(gateway, Chat(Paraphrase, ""","cache":{"use-cache":true}"""));

        Assert.False(plain.Hit);
        Assert.True(optedIn.Hit);
    }

    [Fact]
    public async Task Embedding_group_down_means_uncached_answers_never_errors()
    {
        await using var embedder = await StartUpstreamAsync();
        embedder.Options.FailStatus = 503;
        await using var gateway = await GatewayInstance.StartAsync(ConfigFor(Upstream.BaseUrl, embedder.BaseUrl, CacheParams));

        for (var i = 0; i < 3; i++)
        {
            // PostAsync asserts a 2xx: an embedding outage must never become a client error.
            var answer = await PostAsync(gateway, Chat(Question));
            Assert.False(answer.Hit);
        }

        Assert.Equal(3, ChatCalls);
        var stats = StatsOf(gateway);
        Assert.Equal(0, stats.Stores);
        // The first failure starts a backoff: the next requests do not wait for the group at all.
        Assert.Equal(1, stats.EmbeddingFailures);
        Assert.Equal(2, stats.EmbeddingSkipped);
        Assert.Equal(1, embedder.CountFor(EmbeddingsPath));
    }

    [Fact]
    public async Task Slow_embedding_group_is_waited_for_only_up_to_the_timeout()
    {
        await using var embedder = await StartUpstreamAsync();
        embedder.Options.Latency = TimeSpan.FromSeconds(10);
        await using var gateway = await GatewayInstance.StartAsync(ConfigFor(Upstream.BaseUrl, embedder.BaseUrl, CacheParams + "\nsemantic_cache_embedding_timeout: 0.2"));

        var clock = Stopwatch.StartNew();
        var answer = await PostAsync(gateway, Chat(Question));
        clock.Stop();

        Assert.False(answer.Hit);
        Assert.Equal("0", answer.Similarity);
        // 0.2 s timeout; generous bound for a loaded machine, far below the embedder's 10 s.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the request took {clock.Elapsed}");
        Assert.Equal(1, StatsOf(gateway).EmbeddingFailures);
    }

    [Fact]
    public async Task Embedding_is_made_on_the_gateways_account_not_the_callers_key()
    {
        // A key that may use the chat group only: were the embedding made with it, it would be refused and never hit.
        var (key, _) = await GenerateKeyAsync("""{"models":["qwen3-8b"]}""");
        await PostAsync(Chat(Question), key);
        await StoredAsync(1);

        var paraphrase = await PostAsync(Chat(Paraphrase), key);

        // Only the master key is shown x-litellm-cache-key: the hit shows as the chat model not being called.
        Assert.Null(paraphrase.CacheKey);
        Assert.Equal(1, ChatCalls);
        Assert.Equal(1, Stats.Hits);
        var embedding = Upstream.Requests.Last(r => r.Path == EmbeddingsPath);
        Assert.Equal("Bearer " + Configs.UpstreamKey, embedding.Headers["Authorization"]);
        Assert.DoesNotContain(key, embedding.Headers.Values);
        Assert.Contains("\"input\":\"Tell me the capital city of France\"", embedding.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Answers_cached_for_one_key_are_not_served_to_another()
    {
        var (first, _) = await GenerateKeyAsync("{}");
        var (second, _) = await GenerateKeyAsync("{}");
        await PostAsync(Chat(Question), first);
        await StoredAsync(1);

        await PostAsync(Chat(Question), second);
        Assert.Equal(2, ChatCalls);
        await PostAsync(Chat(Paraphrase), first);

        // Virtual keys are not shown x-litellm-cache-key; hits show as calls the chat model did not get.
        Assert.Equal(2, ChatCalls);
        Assert.Equal(1, Stats.Hits);
    }

    [Fact]
    public async Task Ping_readiness_and_metrics_report_the_semantic_cache()
    {
        await PostAsync(Chat(Question));
        await StoredAsync(1);
        await PostAsync(Chat(Paraphrase));
        await PostAsync(Chat("How do I bake sourdough bread?"));
        await StoredAsync(2);

        using var ping = JsonDocument.Parse(await PingAsync(Gateway));
        var root = ping.RootElement;
        Assert.Equal("local-semantic", root.GetProperty("cache_type").GetString());
        Assert.Equal("0.8", root.GetProperty("litellm_cache_params").GetProperty("similarity_threshold").GetString());
        Assert.Equal("embed", root.GetProperty("litellm_cache_params").GetProperty("redis_semantic_cache_embedding_model").GetString());
        // The question and the unrelated prompt; the paraphrase was a hit and stored nothing.
        Assert.Equal("2", root.GetProperty("local_cache_params").GetProperty("index_entries").GetString());
        Assert.Equal(1, root.GetProperty("stats").GetProperty("hits").GetInt64());

        using var readiness = JsonDocument.Parse(await Gateway.Http.GetStringAsync("/health/readiness"));
        Assert.Equal("local-semantic", readiness.RootElement.GetProperty("cache").GetString());

        var metrics = await PrometheusText.ScrapeAsync(Gateway.Http);
        Assert.Equal(1, metrics.Value("gateway_semantic_cache_events_total", ("cache_type", "local-semantic"), ("event", "hit")));
        Assert.Equal(2, metrics.Value("gateway_semantic_cache_events_total", ("cache_type", "local-semantic"), ("event", "miss")));
        // Lookups that found a candidate: the paraphrase (0.82) and the unrelated prompt (near 0).
        Assert.Equal(2, metrics.Value("gateway_semantic_cache_similarity_count", ("cache_type", "local-semantic")));
        Assert.Equal(1, metrics.Value("gateway_semantic_cache_similarity_bucket", ("cache_type", "local-semantic"), ("le", "0.8")));
        Assert.Equal(3, metrics.Value("gateway_semantic_cache_embedding_seconds_count", ("cache_type", "local-semantic"), ("result", "success")));
        Assert.Equal(1, metrics.Value("litellm_cache_hits_metric_total"));
    }

    [Fact]
    public async Task Cache_delete_removes_a_hit_by_its_key()
    {
        await PostAsync(Chat(Question));
        await StoredAsync(1);
        var hit = await PostAsync(Chat(Paraphrase));

        using var delete = Gateway.Post("/cache/delete", $$"""{"keys":["{{hit.CacheKey}}"]}""", Configs.MasterKey);
        using var deleted = await Gateway.Http.SendAsync(delete);
        deleted.EnsureSuccessStatusCode();

        Assert.False((await PostAsync(Chat(Paraphrase))).Hit);
    }

    private async Task<(string Key, string Token)> GenerateKeyAsync(string json)
    {
        using var request = Gateway.Post("/key/generate", json, Configs.MasterKey);
        using var response = await Gateway.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        using var body = JsonDocument.Parse(text);
        return (body.RootElement.GetProperty("key").GetString()!, body.RootElement.GetProperty("token").GetString()!);
    }

    private static string StreamedText(string sse)
    {
        var text = new System.Text.StringBuilder();
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
            }
        }

        return text.ToString();
    }
}
