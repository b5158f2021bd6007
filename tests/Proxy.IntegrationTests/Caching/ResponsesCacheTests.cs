using System.Text.Json;
using Proxy.IntegrationTests.Infrastructure;
using Proxy.IntegrationTests.Responses;

namespace Proxy.IntegrationTests.Caching;

/// <summary>
/// The exact cache on /v1/responses: only store: false requests are answered from it (a stored response has an id to
/// continue from); a native vLLM answer is kept as chat and replayed as a Responses object or stream.
/// </summary>
public sealed class ResponsesCacheTests : CacheTestBase
{
    private const string ResponsesPath = "/v1/responses";

    protected override string CacheParams => "type: local\n";

    [Fact]
    public async Task A_store_false_response_is_answered_from_the_cache_as_a_response()
    {
        var miss = await PostAsync("""{"model":"qwen3-8b","input":"cache me","store":false}""", ResponsesPath);
        await StoredAsync(1);
        var hit = await PostAsync("""{"model":"qwen3-8b","input":"cache me","store":false}""", ResponsesPath);

        Assert.Equal(1, Upstream.CountFor(ResponsesPath));
        Assert.True(hit.Hit);
        using var first = JsonDocument.Parse(miss.Body);
        using var second = JsonDocument.Parse(hit.Body);
        Assert.Equal("response", second.RootElement.GetProperty("object").GetString());
        Assert.Equal(Text(first.RootElement), Text(second.RootElement));
        Assert.Equal(
            first.RootElement.GetProperty("usage").GetProperty("output_tokens").GetInt32(),
            second.RootElement.GetProperty("usage").GetProperty("output_tokens").GetInt32());
    }

    [Fact]
    public async Task A_cached_stream_is_replayed_as_responses_events()
    {
        const string body = """{"model":"qwen3-8b","input":"stream me","store":false,"stream":true}""";
        var miss = await PostAsync(body, ResponsesPath);
        await StoredAsync(1);
        var hit = await PostAsync(body, ResponsesPath);

        Assert.Equal(1, Upstream.CountFor(ResponsesPath));
        Assert.True(hit.Hit);
        var events = ResponsesBridgeTests.SseEvents(hit.Body);
        Assert.Equal("response.created", events[0].Name);
        Assert.Equal("response.completed", events[^1].Name);
        var replayed = events[^1].Data.GetProperty("response");
        var original = ResponsesBridgeTests.SseEvents(miss.Body)[^1].Data.GetProperty("response");
        Assert.Equal(Text(original), Text(replayed));
    }

    [Fact]
    public async Task A_stored_response_is_never_answered_from_the_cache()
    {
        await PostAsync("""{"model":"qwen3-8b","input":"keep me"}""", ResponsesPath);
        var again = await PostAsync("""{"model":"qwen3-8b","input":"keep me"}""", ResponsesPath);

        Assert.False(again.Hit);
        Assert.Equal(2, Upstream.CountFor(ResponsesPath));
        Assert.Equal(2, Upstream.StoredResponses);
    }

    private static string Text(JsonElement response) => response.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString()!;
}
