using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace FakeUpstream.Tests;

public sealed class FakeUpstreamServerTests : IAsyncLifetime
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private FakeUpstreamServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeUpstreamServer.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Health_and_models()
    {
        using var health = await _http.GetAsync(_server.RootUrl + "/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(string.Empty, await health.Content.ReadAsStringAsync());

        using var models = await GetJsonAsync(_server.BaseUrl + "/models");
        var model = models.RootElement.GetProperty("data")[0];
        Assert.Equal("list", models.RootElement.GetProperty("object").GetString());
        Assert.Equal("fake-model", model.GetProperty("id").GetString());
        Assert.Equal("vllm", model.GetProperty("owned_by").GetString());
        Assert.Equal(4096, model.GetProperty("max_model_len").GetInt32());
    }

    [Fact]
    public async Task Chat_answers_vllm_shape_with_usage()
    {
        using var response = await PostAsync("/chat/completions", """{"model":"m1","messages":[{"role":"system","content":"12345678"},{"role":"user","content":[{"type":"text","text":"abcd"}]}],"max_tokens":5}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        Assert.Matches("^chatcmpl-[0-9a-f]{32}$", root.GetProperty("id").GetString());
        Assert.Equal("chat.completion", root.GetProperty("object").GetString());
        Assert.Equal("m1", root.GetProperty("model").GetString());
        var choice = root.GetProperty("choices")[0];
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal(5, choice.GetProperty("message").GetProperty("content").GetString()!.Split(' ').Length);
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("stop_reason").ValueKind);
        var usage = root.GetProperty("usage");
        Assert.Equal(3, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(5, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(8, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(1, _server.RequestCount);
        Assert.Equal(1, _server.CountFor("/v1/chat/completions"));
    }

    [Fact]
    public async Task Chat_without_max_tokens_stops_after_default_tokens_and_fixed_content_wins()
    {
        _server.Options.DefaultCompletionTokens = 4;
        using var words = await PostJsonAsync("/chat/completions", """{"messages":[{"role":"user","content":"hi"}]}""");
        var choice = words.RootElement.GetProperty("choices")[0];
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(4, words.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal("fake-model", words.RootElement.GetProperty("model").GetString());

        _server.Options.FixedContent = "Hello, world!";
        using var fixedContent = await PostJsonAsync("/chat/completions", """{"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal("Hello, world!", fixedContent.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(4, fixedContent.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        using var overridden = await PostJsonAsync("/chat/completions", """{"messages":[{"role":"user","content":"hi"}],"fake_content":"body"}""", ("x-fake-content", "header"));
        Assert.Equal("body", overridden.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task Stream_sends_role_content_usage_then_done()
    {
        var sent = new List<int>();
        _server.ChunkSent += i =>
        {
            lock (sent)
            {
                sent.Add(i);
            }
        };
        using var response = await PostAsync("/chat/completions", """{"model":"m","messages":[{"role":"user","content":"hello"}],"stream":true,"stream_options":{"include_usage":true}}""", ("x-fake-tokens", "3"));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = ParseSse(await response.Content.ReadAsStringAsync());

        Assert.Equal(6, events.Count);
        Assert.Equal("[DONE]", events[^1]);
        using var first = JsonDocument.Parse(events[0]);
        var delta = first.RootElement.GetProperty("choices")[0].GetProperty("delta");
        Assert.Equal("assistant", delta.GetProperty("role").GetString());
        Assert.Equal(string.Empty, delta.GetProperty("content").GetString());
        Assert.Equal("chat.completion.chunk", first.RootElement.GetProperty("object").GetString());

        var text = new StringBuilder();
        for (var i = 1; i <= 3; i++)
        {
            using var chunk = JsonDocument.Parse(events[i]);
            var choice = chunk.RootElement.GetProperty("choices")[0];
            text.Append(choice.GetProperty("delta").GetProperty("content").GetString());
            Assert.Equal(i == 3 ? "stop" : null, choice.GetProperty("finish_reason").GetString());
        }

        Assert.Equal("The quick brown", text.ToString());
        using var usage = JsonDocument.Parse(events[4]);
        Assert.Equal(0, usage.RootElement.GetProperty("choices").GetArrayLength());
        Assert.Equal(2, usage.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(3, usage.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(5, usage.RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        lock (sent)
        {
            Assert.Equal([0, 1, 2, 3, 4], sent);
        }
    }

    [Fact]
    public async Task Legacy_completions_stream_text_pieces()
    {
        using var response = await PostAsync("/completions", """{"prompt":"once upon","max_tokens":2,"stream":true}""");
        var events = ParseSse(await response.Content.ReadAsStringAsync());
        Assert.Equal(3, events.Count);
        using var last = JsonDocument.Parse(events[1]);
        Assert.Equal("text_completion", last.RootElement.GetProperty("object").GetString());
        Assert.Equal(" quick", last.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal("length", last.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal("[DONE]", events[2]);
    }

    [Fact]
    public async Task Context_overflow_answers_vllm_400()
    {
        _server.Options.MaxModelLen = 100;
        var prompt = new string('x', 40);
        using var response = await PostAsync("/chat/completions", $$"""{"messages":[{"role":"user","content":"{{prompt}}"}],"max_tokens":95}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = json.RootElement.GetProperty("error");
        Assert.Equal(
            "This model's maximum context length is 100 tokens. However, you requested 105 tokens (10 in the messages, 95 in the completion). Please reduce the length of the messages or completion.",
            error.GetProperty("message").GetString());
        Assert.Equal("BadRequestError", error.GetProperty("type").GetString());
        Assert.Equal(400, error.GetProperty("code").GetInt32());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
    }

    [Fact]
    public async Task Malformed_json_and_unknown_paths()
    {
        using var bad = await PostAsync("/chat/completions", "{nope");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var badJson = JsonDocument.Parse(await bad.Content.ReadAsStringAsync());
        Assert.Equal("BadRequestError", badJson.RootElement.GetProperty("error").GetProperty("type").GetString());

        using var missing = await PostAsync("/moderations", """{"input":"x"}""");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("""{"detail":"Not Found"}""", await missing.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Fail_status_429_has_retry_after_and_nested_or_flat_body()
    {
        _server.Options.FailStatus = 429;
        _server.Options.RetryAfterSeconds = 7;
        using var nested = await PostAsync("/chat/completions", """{"messages":[]}""");
        Assert.Equal(HttpStatusCode.TooManyRequests, nested.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), nested.Headers.RetryAfter?.Delta);
        using var nestedJson = JsonDocument.Parse(await nested.Content.ReadAsStringAsync());
        var error = nestedJson.RootElement.GetProperty("error");
        Assert.Equal("RateLimitError", error.GetProperty("type").GetString());
        Assert.Equal(429, error.GetProperty("code").GetInt32());

        _server.Options.FlatErrors = true;
        using var flat = await PostAsync("/chat/completions", """{"messages":[]}""", ("x-fake-status", "503"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, flat.StatusCode);
        using var flatJson = JsonDocument.Parse(await flat.Content.ReadAsStringAsync());
        Assert.Equal("error", flatJson.RootElement.GetProperty("object").GetString());
        Assert.Equal("ServiceUnavailableError", flatJson.RootElement.GetProperty("type").GetString());
        Assert.Equal(503, flatJson.RootElement.GetProperty("code").GetInt32());
        Assert.Equal(2, _server.RequestCount);
    }

    [Fact]
    public async Task Stop_refuses_connections_and_restart_serves_the_same_port()
    {
        var port = _server.Port;
        using var before = await PostAsync("/chat/completions", """{"messages":[{"role":"user","content":"a"}]}""");
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        await _server.StopAsync();
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => _http.GetAsync(_server.RootUrl + "/health"));
        Assert.Equal(SocketError.ConnectionRefused, (refused.InnerException as SocketException)?.SocketErrorCode);

        await _server.RestartAsync();
        Assert.Equal(port, _server.Port);
        using var after = await PostAsync("/chat/completions", """{"messages":[{"role":"user","content":"a"}]}""");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Drop_aborts_and_drop_after_chunks_cuts_the_stream()
    {
        await Assert.ThrowsAsync<HttpRequestException>(() => PostAsync("/chat/completions", """{"messages":[]}""", ("x-fake-drop", "true")));

        using var request = new HttpRequestMessage(HttpMethod.Post, _server.BaseUrl + "/chat/completions")
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"a"}],"stream":true,"fake_drop_after_chunks":2}""", Encoding.UTF8, "application/json"),
        };
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = 0;
        var broken = false;
        try
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                events += line.StartsWith("data: ", StringComparison.Ordinal) ? 1 : 0;
            }
        }
        catch (IOException)
        {
            broken = true;
        }

        Assert.True(broken);
        Assert.Equal(2, events);
        Assert.Equal(2, _server.RequestCount);
    }

    [Fact]
    public async Task Hang_ends_with_client_timeout()
    {
        // Long enough for the request to arrive even when the machine is busy running the other test assemblies.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        using var content = new StringContent("""{"messages":[]}""", Encoding.UTF8, "application/json");
        content.Headers.Add("x-fake-hang", "true");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _http.PostAsync(_server.BaseUrl + "/chat/completions", content, cts.Token));
        for (var i = 0; i < 250 && _server.CountFor("/v1/chat/completions") == 0; i++)
        {
            await Task.Delay(20);
        }

        Assert.Equal(1, _server.CountFor("/v1/chat/completions"));
    }

    [Fact]
    public async Task Stop_ends_hanging_requests_quickly()
    {
        _server.Options.Hang = true;
        var pending = PostAsync("/chat/completions", """{"messages":[]}""");
        for (var i = 0; i < 100 && _server.RequestCount == 0; i++)
        {
            await Task.Delay(20);
        }

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        await _server.StopAsync();
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1.5), $"stop took {stopwatch.Elapsed}");
        await Assert.ThrowsAsync<HttpRequestException>(() => pending);
    }

    [Fact]
    public async Task Embeddings_are_deterministic_and_base64_matches_floats()
    {
        using var floats = await PostJsonAsync("/embeddings", """{"model":"e","input":["alpha","beta"]}""");
        var data = floats.RootElement.GetProperty("data");
        Assert.Equal(2, data.GetArrayLength());
        var alpha = data[0].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(8, alpha.Length);
        Assert.Equal(0, floats.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        using var encoded = await PostJsonAsync("/embeddings", """{"input":"alpha","encoding_format":"base64"}""");
        var bytes = Convert.FromBase64String(encoded.RootElement.GetProperty("data")[0].GetProperty("embedding").GetString()!);
        var decoded = Enumerable.Range(0, bytes.Length / 4).Select(i => BitConverter.ToSingle(bytes, i * 4)).ToArray();
        Assert.Equal(alpha, decoded);
    }

    [Fact]
    public async Task Bag_of_words_embeddings_score_paraphrases_high_and_unrelated_text_low()
    {
        _server.Options.EmbeddingMode = FakeEmbeddingMode.BagOfWords;
        _server.Options.EmbeddingDimensions = 384;
        using var answer = await PostJsonAsync("/embeddings",
            """{"model":"e","input":["What is the capital of France?","Tell me the capital of France","capital of France and Spain","How do I bake bread?"]}""");
        var vectors = answer.RootElement.GetProperty("data").EnumerateArray()
            .Select(d => d.GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray()).ToArray();

        Assert.Equal(384, vectors[0].Length);
        Assert.Equal(1.0, Cosine(vectors[0], vectors[1]), 4);
        // Two shared content words of three: 2 / sqrt(2 * 3).
        Assert.Equal(2 / Math.Sqrt(6), Cosine(vectors[0], vectors[2]), 4);
        Assert.Equal(0.0, Cosine(vectors[0], vectors[3]), 4);
        Assert.Equal(vectors[0], BagOfWordsEmbedding.Embed("What is the capital of France?", 384));
    }

    private static double Cosine(float[] a, float[] b) =>
        a.Zip(b, (x, y) => (double)x * y).Sum() / Math.Sqrt(a.Sum(x => (double)x * x) * b.Sum(x => (double)x * x));

    [Fact]
    public async Task Guard_mode_judges_chat_and_serves_moderations()
    {
        _server.Options.Guard = true;
        using var moderation = await PostJsonAsync("/moderations", """{"input":["how to build a bomb","nice weather"]}""");
        var results = moderation.RootElement.GetProperty("results");
        Assert.Matches("^modr-", moderation.RootElement.GetProperty("id").GetString());
        Assert.Equal("text-moderation-latest", moderation.RootElement.GetProperty("model").GetString());
        Assert.True(results[0].GetProperty("flagged").GetBoolean());
        Assert.True(results[0].GetProperty("categories").GetProperty("violence").GetBoolean());
        Assert.Equal(1.0, results[0].GetProperty("category_scores").GetProperty("violence").GetDouble());
        Assert.Equal(11, results[0].GetProperty("categories").EnumerateObject().Count());
        Assert.False(results[1].GetProperty("flagged").GetBoolean());

        using var unsafeChat = await PostJsonAsync("/chat/completions", """{"messages":[{"role":"user","content":"Task: check.\n<BEGIN CONVERSATION>\nUser: I will kill you\n<END CONVERSATION>\nAnswer."}]}""");
        Assert.Equal("unsafe\nS1", unsafeChat.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        using var safeChat = await PostJsonAsync("/chat/completions", """{"messages":[{"role":"user","content":"<BEGIN CONVERSATION>hello<END CONVERSATION> kill"}]}""");
        Assert.Equal("safe", safeChat.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task Records_requests_and_resets()
    {
        using var response = await PostAsync("/chat/completions", """{"messages":[{"role":"user","content":"a"}]}""", ("x-trace", "t1"));
        var recorded = Assert.Single(_server.Requests);
        Assert.Equal("POST", recorded.Method);
        Assert.Equal("/v1/chat/completions", recorded.Path);
        Assert.Equal("t1", recorded.Headers["X-Trace"]);
        Assert.Contains("\"messages\"", recorded.Body, StringComparison.Ordinal);

        _server.Reset();
        Assert.Empty(_server.Requests);
        Assert.Equal(0, _server.RequestCount);
        Assert.Equal(0, _server.CountFor("/v1/chat/completions"));
    }

    private async Task<HttpResponseMessage> PostAsync(string path, string body, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _server.BaseUrl + path)
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        return await _http.SendAsync(request);
    }

    private async Task<JsonDocument> PostJsonAsync(string path, string body, params (string Name, string Value)[] headers)
    {
        using var response = await PostAsync(path, body, headers);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonDocument> GetJsonAsync(string url)
    {
        using var response = await _http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    private static List<string> ParseSse(string text)
    {
        Assert.EndsWith("\n\n", text, StringComparison.Ordinal);
        return text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e =>
            {
                Assert.StartsWith("data: ", e, StringComparison.Ordinal);
                return e["data: ".Length..];
            })
            .ToList();
    }
}
