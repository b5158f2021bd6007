using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Endpoints;

/// <summary>
/// LiteLLM's model-routed <c>/vllm/{path}</c>: the body's model picks the group, the request goes to the deployment's
/// server root with only the model (and the credentials) changed, streams pass through as they come, keys and spend
/// apply, and no path can climb out of the root or onto another route of the gateway.
/// </summary>
public sealed class VllmPassThroughTests : IAsyncLifetime
{
    private FleetGateway _fleet = null!;

    public async Task InitializeAsync() => _fleet = await FleetGateway.StartAsync();

    public async Task DisposeAsync() => await _fleet.DisposeAsync();

    [Fact]
    public async Task The_body_goes_to_the_server_root_untouched_but_for_the_model()
    {
        var key = await _fleet.GenerateKeyAsync();
        const string body = """{"text_1":"capital of France", "model" : "scorer","metadata":{"kept":true},"text_2":["Paris is the capital of France"],"tags":["x"]}""";

        using var response = await _fleet.PostJsonAsync("/vllm/score?trace=1", body, key);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var upstream = _fleet.First.Requests.Single();
        Assert.Equal("/score", upstream.Path);
        // LiteLLM-only members (metadata, tags) stay: a pass-through changes the model and nothing else.
        Assert.Equal(body.Replace("\"scorer\"", "\"BAAI/bge-reranker-base\"", StringComparison.Ordinal), upstream.Body);
        Assert.DoesNotContain(key, upstream.Headers.Values);
        Assert.Equal("score-a", response.Headers.GetValues("x-litellm-model-id").Single());

        var row = (await _fleet.SpendLogsAsync(key)).Single();
        Assert.Equal("pass_through_endpoint", row.GetProperty("call_type").GetString());
        // Priced per token, so the usage of vLLM's answer costs; an unpriced group would log 0.
        Assert.Equal(row.GetProperty("prompt_tokens").GetInt32() * FleetGateway.PerToken, row.GetProperty("spend").GetDouble());
    }

    [Fact]
    public async Task A_stream_is_passed_through_as_it_arrives()
    {
        var key = await _fleet.GenerateKeyAsync();
        _fleet.First.Options.ChunkDelay = TimeSpan.FromMilliseconds(150);
        var sent = 0;
        _fleet.First.ChunkSent += _ => Interlocked.Increment(ref sent);
        using var request = _fleet.Gateway.Post("/vllm/v1/chat/completions",
            """{"model":"qwen","stream":true,"max_tokens":8,"messages":[{"role":"user","content":"hi"}]}""", key);

        using var response = await _fleet.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync();
        var sentWhenFirstArrived = Volatile.Read(ref sent);
        var rest = await reader.ReadToEndAsync();

        Assert.StartsWith("data: {", first, StringComparison.Ordinal);
        // The first event reached the client while the upstream was still producing the others.
        Assert.True(sentWhenFirstArrived < 8, $"{sentWhenFirstArrived} chunks had been sent when the first arrived");
        Assert.EndsWith("data: [DONE]\n\n", rest, StringComparison.Ordinal);
        Assert.Equal("/v1/chat/completions", _fleet.First.Requests.Single().Path);
        // Nothing was added to the body: no stream_options the client did not send.
        Assert.DoesNotContain("stream_options", _fleet.First.Requests.Single().Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/vllm/../key/generate")]
    [InlineData("/vllm/%2e%2e/key/generate")]
    [InlineData("/vllm/./../../key/generate")]
    public async Task Dot_segments_never_reach_the_admin_API_or_an_upstream(string path)
    {
        var key = await _fleet.GenerateKeyAsync();
        var before = await KeyCountAsync();

        foreach (var credential in new[] { key, Configs.MasterKey })
        {
            using var response = await SendRawAsync(HttpMethod.Post, path, """{"model":"qwen","key_alias":"smuggled"}""", credential);
            await ErrorAssert.IsOpenAiErrorAsync(response, 400);
        }

        Assert.Equal(before, await KeyCountAsync());
        Assert.Empty(_fleet.First.Requests);
        Assert.Empty(_fleet.Second.Requests);
    }

    [Theory]
    [InlineData("/vllm/v1%2F..%2F..%2Fadmin")]
    [InlineData("/vllm/a%5Cb")]
    [InlineData("/vllm/")]
    [InlineData("/vllm//score")]
    public async Task Encoded_slashes_backslashes_and_empty_segments_are_refused(string path)
    {
        var key = await _fleet.GenerateKeyAsync();

        using var response = await SendRawAsync(HttpMethod.Post, path, """{"model":"scorer"}""", key);

        await ErrorAssert.IsOpenAiErrorAsync(response, 400);
        Assert.Empty(_fleet.First.Requests);
    }

    [Fact]
    public async Task A_body_without_a_model_group_is_a_400_and_a_key_without_the_group_a_403()
    {
        var limited = await _fleet.GenerateKeyAsync("""{"models":["qwen"]}""");

        using var missing = await _fleet.PostJsonAsync("/vllm/score", """{"text_1":"a","text_2":"b"}""", limited);
        using var denied = await _fleet.PostJsonAsync("/vllm/score", """{"model":"scorer","text_1":"a","text_2":"b"}""", limited);
        using var anonymous = await _fleet.Http.PostAsync("/vllm/score", new StringContent("""{"model":"scorer"}""", Encoding.UTF8, "application/json"));

        await ErrorAssert.IsOpenAiErrorAsync(missing, 400);
        await ErrorAssert.IsOpenAiErrorAsync(denied, 403);
        await ErrorAssert.IsOpenAiErrorAsync(anonymous, 401);
        Assert.Empty(_fleet.First.Requests);
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, string json, string key)
    {
        // HttpClient would resolve the dot segments itself; send the path exactly as written.
        var uri = new Uri(_fleet.Gateway.RootUrl + path, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        var request = new HttpRequestMessage(method, uri) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return await _fleet.Http.SendAsync(request);
    }

    private async Task<int> KeyCountAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/key/list");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Configs.MasterKey);
        using var response = await _fleet.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var body = JsonDocument.Parse(text);
        return body.RootElement.GetProperty("keys").GetArrayLength();
    }
}
