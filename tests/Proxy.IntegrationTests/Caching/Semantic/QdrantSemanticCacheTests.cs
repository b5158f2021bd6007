using System.Text.Json;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Caching.Semantic;

/// <summary>qdrant-semantic against <see cref="FakeQdrant"/> (a recorded fake of Qdrant's REST API; see its remarks).</summary>
public sealed class QdrantSemanticCacheTests : SemanticCacheTestBase
{
    private const string Collection = "semantic_cache_tests";
    private const string ApiKey = "qdrant-test-key-77";

    private FakeQdrant _qdrant = null!;

    protected override string CacheParams => $"""
        type: qdrant-semantic
        qdrant_api_base: {_qdrant.Url}
        qdrant_api_key: {ApiKey}
        qdrant_collection_name: {Collection}
        similarity_threshold: 0.8
        qdrant_semantic_cache_embedding_model: embed
        ttl: 600
        """;

    public override async Task InitializeAsync()
    {
        _qdrant = await FakeQdrant.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _qdrant.DisposeAsync();
    }

    [Fact]
    public async Task Paraphrase_hits_through_the_rest_calls_qdrant_documents()
    {
        var first = await PostAsync(Chat("What is the capital of France?"));
        await StoredAsync(1);
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(_qdrant.PointsIn(Collection) == 1), TimeSpan.FromSeconds(10)));

        var second = await PostAsync(Chat("Tell me the capital city of France"));

        Assert.True(second.Hit, second.ToString());
        Assert.Equal(first.Body, second.Body);
        Assert.Equal(1, ChatCalls);
        var calls = _qdrant.Calls;
        Assert.All(calls, call => Assert.Equal(ApiKey, call.ApiKey));

        // Created with the first entry: Cosine, the first embedding's size, LiteLLM's default binary quantization.
        var create = calls.Single(c => c.Method == "PUT" && c.Path == $"/collections/{Collection}").Json;
        Assert.Equal(384, create.GetProperty("vectors").GetProperty("size").GetInt32());
        Assert.Equal("Cosine", create.GetProperty("vectors").GetProperty("distance").GetString());
        Assert.False(create.GetProperty("quantization_config").GetProperty("binary").GetProperty("always_ram").GetBoolean());
        var index = calls.Single(c => c.Path.StartsWith($"/collections/{Collection}/index", StringComparison.Ordinal)).Json;
        Assert.Equal("litellm_cache_key", index.GetProperty("field_name").GetString());

        var point = calls.Single(c => c.Method == "PUT" && c.Path.StartsWith($"/collections/{Collection}/points", StringComparison.Ordinal)).Json.GetProperty("points")[0];
        Assert.True(Guid.TryParse(point.GetProperty("id").GetString(), out _));
        Assert.Equal(384, point.GetProperty("vector").GetArrayLength());
        var payload = point.GetProperty("payload");
        Assert.Equal("What is the capital of France?", payload.GetProperty("text").GetString());
        Assert.StartsWith("{\"timestamp\":", payload.GetProperty("response").GetString(), StringComparison.Ordinal);
        // ttl 600: Qdrant has no expiry of its own, so the point says when it stops being served.
        Assert.InRange(payload.GetProperty("expires_at").GetDouble() - TimeProvider.System.GetUtcNow().ToUnixTimeSeconds(), 500, 601);
        var scope = payload.GetProperty("litellm_cache_key").GetString();

        var search = calls.Last(c => c.Path == $"/collections/{Collection}/points/search").Json;
        Assert.Equal(1, search.GetProperty("limit").GetInt32());
        Assert.True(search.GetProperty("with_payload").GetBoolean());
        Assert.Equal(scope, search.GetProperty("filter").GetProperty("must")[0].GetProperty("match").GetProperty("value").GetString());
        Assert.True(search.GetProperty("params").GetProperty("quantization").GetProperty("rescore").GetBoolean());
    }

    [Fact]
    public async Task The_scope_filter_keeps_another_model_groups_answers_out()
    {
        await PostAsync(Chat("What is the capital of France?"));
        await StoredAsync(1);
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(_qdrant.PointsIn(Collection) == 1), TimeSpan.FromSeconds(10)));

        var otherGroup = await PostAsync(Chat("What is the capital of France?", model: "other-model"));

        Assert.False(otherGroup.Hit);
        Assert.Equal(2, ChatCalls);
    }

    [Fact]
    public async Task Qdrant_down_means_uncached_answers_never_errors()
    {
        _qdrant.Down = true;

        for (var i = 0; i < 3; i++)
        {
            Assert.False((await PostAsync(Chat("What is the capital of France?"))).Hit);
        }

        Assert.Equal(3, ChatCalls);
        Assert.True(Stats.Errors >= 1);
    }

    [Fact]
    public async Task Ping_reports_the_collection()
    {
        await PostAsync(Chat("What is the capital of France?"));
        await StoredAsync(1);
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(_qdrant.PointsIn(Collection) == 1), TimeSpan.FromSeconds(10)));

        using var ping = JsonDocument.Parse(await PingAsync(Gateway));

        Assert.Equal("qdrant-semantic", ping.RootElement.GetProperty("cache_type").GetString());
        var backend = ping.RootElement.GetProperty("qdrant_cache_params");
        Assert.Equal(Collection, backend.GetProperty("collection_name").GetString());
        Assert.Equal("1", backend.GetProperty("points_count").GetString());
        Assert.DoesNotContain(ApiKey, ping.RootElement.GetRawText(), StringComparison.Ordinal);
    }
}
