using System.Diagnostics;
using System.Text;
using System.Text.Json;
using FakeUpstream.Fleet;

namespace FakeUpstream.Tests.Fleet;

public sealed class SimulatedEngineTests : IAsyncLifetime
{
    private static readonly string Document = string.Concat(Enumerable.Range(0, 100).Select(i => $"Line {i:D3} of the shared document. "));
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private FakeUpstreamServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeUpstreamServer.StartAsync(new FakeUpstreamOptions
    {
        MaxModelLen = 100_000,
        Simulator = new SimulatorOptions { CacheBlocks = 256, PrefillMicrosPerToken = 20, DecodeMillisPerToken = 0.5, MaxNumSeqs = 2 },
    });

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Second_request_with_the_same_prefix_reports_cached_tokens()
    {
        var (_, firstPrompt, firstCached) = await ChatAsync(Document, "first question?");
        var (_, prompt, cached) = await ChatAsync(Document, "second question?");

        Assert.Equal(0, firstCached);
        Assert.True(prompt > 800, $"prompt {prompt}");
        // Every full 16-token block of the shared part: the system message and the tag of the user message.
        var sharedChars = "<|system|>".Length + Document.Length + "<|user|>".Length;
        Assert.Equal(sharedChars / 64 * 16, cached);
        Assert.True(firstPrompt > 0);
    }

    [Fact]
    public async Task Answer_is_cached_too_so_the_next_turn_hits_it()
    {
        var (answer, prompt, _) = await ChatAsync(Document, "tell me");
        var messages = new[] { ("system", Document), ("user", "tell me"), ("assistant", answer), ("user", "and then?") };
        var rendered = PromptRenderer.Chat(messages);
        var engine = _server.Engine!;

        // All of the previous turn's full blocks, its answer included, are in the cache.
        Assert.True(engine.CachedTokensFor(rendered) > prompt - 16, $"{engine.CachedTokensFor(rendered)} vs {prompt}");
    }

    [Fact]
    public async Task Cache_is_bounded_and_least_recently_used_goes_first()
    {
        var engine = _server.Engine!;
        await ChatAsync(Document, "q");
        // Five other documents as long as the first overflow a 256-block cache (each is ~60 blocks).
        for (var i = 0; i < 5; i++)
        {
            await ChatAsync(Document.Replace("Line", "Row" + i, StringComparison.Ordinal), "q");
        }

        Assert.Equal(0, engine.CachedTokensFor(PromptRenderer.Chat([("system", Document), ("user", "q")])));
        Assert.True(engine.CachedTokensFor(PromptRenderer.Chat([("system", Document.Replace("Line", "Row4", StringComparison.Ordinal)), ("user", "q")])) > 0);
    }

    [Fact]
    public async Task Uncached_prefill_costs_simulated_time_and_a_hit_does_not()
    {
        var long1 = string.Concat(Enumerable.Repeat(Document, 8));
        var watch = Stopwatch.StartNew();
        await ChatAsync(long1, "q");
        var miss = watch.Elapsed;
        watch.Restart();
        await ChatAsync(long1, "q2");
        var hit = watch.Elapsed;

        // ~7,000 prompt tokens x 20 us = ~140 ms of prefill on the miss; the hit recomputes a block or two.
        Assert.True(miss > TimeSpan.FromMilliseconds(120), $"miss {miss}");
        Assert.True(hit < miss / 2, $"hit {hit}, miss {miss}");
    }

    [Fact]
    public async Task Metrics_show_vllm_gauges_and_restart_empties_the_cache()
    {
        await ChatAsync(Document, "q");
        await ChatAsync(Document, "q");
        var metrics = await _http.GetStringAsync(_server.RootUrl + "/metrics");
        Assert.Contains("vllm:num_requests_running{engine=\"0\",model_name=\"fake-model\"} 0.0", metrics, StringComparison.Ordinal);
        Assert.Contains("vllm:num_requests_waiting{", metrics, StringComparison.Ordinal);
        Assert.Contains("vllm:kv_cache_usage_perc{", metrics, StringComparison.Ordinal);
        Assert.Contains("num_gpu_blocks=\"256\"", metrics, StringComparison.Ordinal);
        Assert.Contains("block_size=\"16\"", metrics, StringComparison.Ordinal);
        Assert.True(_server.Engine!.Totals.HitTokens > 0);

        await _server.RestartAsync();

        Assert.Equal(0, _server.Engine.Totals.HitTokens);
        var (_, _, cached) = await ChatAsync(Document, "q");
        Assert.Equal(0, cached);
    }

    [Fact]
    public async Task Beyond_max_num_seqs_requests_wait()
    {
        // Each request decodes for ~1 s, long enough for all four to arrive on a busy machine.
        var tokens = """ "max_tokens": 2000 """;
        var requests = Enumerable.Range(0, 4).Select(i => PostAsync($$"""{"model":"m","messages":[{"role":"user","content":"hello {{i}}"}],{{tokens}}}""")).ToList();
        var engine = _server.Engine!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (engine.Load < 4 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        var metrics = await _http.GetStringAsync(_server.RootUrl + "/metrics");
        await Task.WhenAll(requests);

        Assert.Contains("vllm:num_requests_running{engine=\"0\",model_name=\"fake-model\"} 2.0", metrics, StringComparison.Ordinal);
        Assert.Contains("vllm:num_requests_waiting{engine=\"0\",model_name=\"fake-model\"} 2.0", metrics, StringComparison.Ordinal);
        Assert.Equal(0, engine.Load);
    }

    [Fact]
    public async Task Streams_end_with_usage_that_carries_cached_tokens()
    {
        await ChatAsync(Document, "q");
        using var response = await _http.PostAsync(_server.BaseUrl + "/chat/completions", Json(
            $$"""{"model":"m","stream":true,"stream_options":{"include_usage":true},"max_tokens":20,"messages":[{"role":"system","content":"{{Document}}"},{"role":"user","content":"q"}]}"""));
        var text = await response.Content.ReadAsStringAsync();

        Assert.EndsWith("data: [DONE]\n\n", text, StringComparison.Ordinal);
        var usageLine = text.Split("\n\n").Single(l => l.Contains("\"usage\"", StringComparison.Ordinal));
        using var usage = JsonDocument.Parse(usageLine["data: ".Length..]);
        Assert.True(usage.RootElement.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32() > 0);
    }

    private async Task<(string Answer, int Prompt, int Cached)> ChatAsync(string system, string user)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model"] = "m",
            ["max_tokens"] = 16,
            ["messages"] = new[] { new Dictionary<string, string> { ["role"] = "system", ["content"] = system }, new Dictionary<string, string> { ["role"] = "user", ["content"] = user } },
        });
        using var json = JsonDocument.Parse(await PostAsync(body));
        var usage = json.RootElement.GetProperty("usage");
        return (json.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!,
            usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
    }

    private async Task<string> PostAsync(string body)
    {
        using var response = await _http.PostAsync(_server.BaseUrl + "/chat/completions", Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return text;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
