using System.Diagnostics;
using System.Text.Json;
using FakeUpstream;
using Proxy.IntegrationTests.Infrastructure;
using Proxy.Transforms.Caching.Semantic;
using StackExchange.Redis;

namespace Proxy.IntegrationTests.Caching.Semantic;

/// <summary>
/// redis-semantic on the test Redis (Debian's 7, no vector search): entries and vectors in Redis, an in-process index
/// per replica kept in sync over pub/sub and read again on start and reconnect. Each test has its own index name.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisSemanticCacheTests : SemanticCacheTestBase
{
    private const string Question = "What is the capital of France?";
    private const string Paraphrase = "Tell me the capital city of France";

    private readonly string _indexName = "tsem" + Guid.NewGuid().ToString("N")[..12];

    protected override string CacheParams
    {
        get
        {
            var address = TestServices.Redis;
            var colon = address.LastIndexOf(':');
            return $"""
                type: redis-semantic
                host: {address[..colon]}
                port: {address[(colon + 1)..]}
                similarity_threshold: 0.8
                redis_semantic_cache_embedding_model: embed
                redis_semantic_cache_index_name: {_indexName}
                ttl: 600
                """;
        }
    }

    [Fact]
    public async Task Paraphrase_hits_and_the_entry_is_a_hash_with_its_vector_in_redis()
    {
        var first = await PostAsync(Chat(Question));
        await StoredAsync(1);
        var second = await PostAsync(Chat(Paraphrase));

        Assert.True(second.Hit, second.ToString());
        Assert.Equal(first.Body, second.Body);
        Assert.Equal(1, ChatCalls);

        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestServices.Redis);
        var database = redis.GetDatabase();
        var entry = (await database.HashGetAllAsync(second.CacheKey)).ToDictionary(e => e.Name.ToString(), e => e.Value);
        Assert.Equal(Question, entry["prompt"].ToString());
        Assert.Equal(384 * sizeof(float), ((byte[])entry["prompt_vector"]!).Length);
        Assert.Matches("^[0-9a-f]{64}$", entry["litellm_cache_key"].ToString());
        Assert.StartsWith("{\"timestamp\":", entry["response"].ToString(), StringComparison.Ordinal);
        var ttl = await database.KeyTimeToLiveAsync(second.CacheKey);
        Assert.InRange(ttl!.Value.TotalSeconds, 500, 600);

        using var ping = JsonDocument.Parse(await PingAsync(Gateway));
        var backend = ping.RootElement.GetProperty("redis_cache_params");
        Assert.Equal("redis-semantic", ping.RootElement.GetProperty("cache_type").GetString());
        Assert.StartsWith("in-process index", backend.GetProperty("vector_search").GetString(), StringComparison.Ordinal);
        Assert.Equal("1", backend.GetProperty("index_entries").GetString());
    }

    [Fact]
    public async Task Two_replicas_on_one_redis_share_hits_within_a_second()
    {
        await using var replicaB = await GatewayInstance.StartAsync(ConfigFor(Upstream.BaseUrl, Upstream.BaseUrl, CacheParams));
        // Warm B's pipeline (JIT, connections) with a prompt of its own, so the timing below is the cache's.
        await PostAsync(replicaB, Chat("How do I bake sourdough bread?"));

        await PostAsync(Chat(Question));
        await StoredAsync(1);
        var clock = Stopwatch.StartNew();
        Answer onB;
        do
        {
            onB = await PostAsync(replicaB, Chat(Paraphrase, ""","cache":{"no-store":true}"""));
        }
        while (!onB.Hit && clock.Elapsed < TimeSpan.FromSeconds(1));

        // The bound; the announcement crosses loopback pub/sub in milliseconds, the rest is slack for a loaded machine.
        Assert.True(onB.Hit, $"replica B did not hit within {clock.Elapsed}");
        Assert.Equal(1, StatsOf(replicaB).Hits);
    }

    [Fact]
    public async Task A_replica_started_later_reads_the_index_from_redis()
    {
        await PostAsync(Chat(Question));
        await StoredAsync(1);
        await using var later = await GatewayInstance.StartAsync(ConfigFor(Upstream.BaseUrl, Upstream.BaseUrl, CacheParams));

        var answer = await PostAsync(later, Chat(Paraphrase));

        Assert.True(answer.Hit, answer.ToString());
        Assert.Equal(1, ChatCalls);
    }

    [Fact]
    public async Task Redis_restarted_means_uncached_answers_meanwhile_and_the_index_read_again_after()
    {
        await PostAsync(Chat(Question));
        await StoredAsync(1);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(TestServices.Redis + ",allowAdmin=true");
        var database = admin.GetDatabase();
        var stored = (await database.HashGetAllAsync(Key(await OnlyEntryIdAsync(admin)))).ToDictionary(e => e.Name.ToString(), e => e.Value);

        // Behind the gateway's back (no announcement): an entry only a rebuild can find, and the question's entry gone.
        const string Rivers = "Which rivers flow through Berlin";
        var riversKey = Key("0123456789abcdef0123456789abcdef");
        await database.HashSetAsync(riversKey,
        [
            new("prompt", Rivers),
            new("response", stored["response"]),
            new("prompt_vector", SemanticVectors.ToBytes(BagOfWordsEmbedding.Embed(Rivers, 384))),
            new("litellm_cache_key", stored["litellm_cache_key"]),
        ]);
        await database.KeyDeleteAsync(Key(await OnlyEntryIdAsync(admin, except: riversKey)));
        Assert.False((await PostAsync(Chat("Which rivers flow through Berlin?", ""","cache":{"no-store":true}"""))).Hit);

        // Redis keeps no data across a restart here (save ""): write a snapshot for the restart to load.
        var server = admin.GetServer(TestServices.Redis);
        await server.ExecuteAsync("SAVE");
        var dump = Path.Combine((await server.ConfigGetAsync("dir"))[0].Value, "dump.rdb");
        await TestServices.StopRedisAsync();
        try
        {
            var down = await PostAsync(Chat(Paraphrase));
            Assert.False(down.Hit);
        }
        finally
        {
            await TestServices.StartRedisAsync();
            File.Delete(dump);
        }

        Assert.True(await Eventually.TrueAsync(async () => await IndexEntriesAsync() == "1", TimeSpan.FromSeconds(20)),
            $"the index was not read again: {await IndexEntriesAsync()} entries");
        var rivers = await PostAsync(Chat("Which rivers flow through Berlin?"));
        Assert.True(rivers.Hit, rivers.ToString());
        Assert.Equal(riversKey, rivers.CacheKey);
        Assert.True(Stats.Errors >= 1);
    }

    [Fact]
    public async Task Tutorial_semantic_cache_config_answers_a_paraphrase_from_the_redis_it_already_starts()
    {
        var address = TestServices.Redis;
        var colon = address.LastIndexOf(':');
        var yaml = RepoFiles.Read("config/semantic-cache.yaml")
            .Replace("http://127.0.0.1:8000/v1", Upstream.BaseUrl, StringComparison.Ordinal)
            .Replace("http://127.0.0.1:8001/v1", Upstream.BaseUrl, StringComparison.Ordinal);
        await using var gateway = await GatewayInstance.StartAsync(yaml, new Dictionary<string, string?>
        {
            ["REDIS_HOST"] = address[..colon],
            ["REDIS_PORT"] = address[(colon + 1)..],
        });
        // The config uses LiteLLM's default index name: clear what an earlier run left in the test Redis.
        using (var flush = gateway.Post("/cache/flushall", "{}", "sk-1234"))
        {
            (await gateway.Http.SendAsync(flush)).EnsureSuccessStatusCode();
        }

        var chatCalls = ChatCalls;
        var first = await PostAsync(gateway, """{"model":"qwen3-8b","messages":[{"role":"user","content":"请介绍一下量子力学。"}]}""", "sk-1234");
        await StoredAsync(gateway, 1);
        var paraphrase = await PostAsync(gateway, """{"model":"qwen3-8b","messages":[{"role":"user","content":"请简单介绍一下量子力学"}]}""", "sk-1234");

        Assert.False(first.Hit);
        Assert.True(paraphrase.Hit, paraphrase.ToString());
        Assert.InRange(paraphrase.SimilarityValue, 0.9, 1);
        Assert.StartsWith("litellm_semantic_cache_index:", paraphrase.CacheKey, StringComparison.Ordinal);
        Assert.Equal(chatCalls + 1, ChatCalls);
    }

    private string Key(string entryId) => _indexName + ":" + entryId;

    private async Task<string> OnlyEntryIdAsync(ConnectionMultiplexer redis, string? except = null)
    {
        var keys = new List<string>();
        await foreach (var key in redis.GetServer(TestServices.Redis).KeysAsync(pattern: _indexName + ":*"))
        {
            if (key.ToString() != except)
            {
                keys.Add(key.ToString());
            }
        }

        return Assert.Single(keys)[(_indexName.Length + 1)..];
    }

    private async Task<string?> IndexEntriesAsync()
    {
        try
        {
            using var ping = JsonDocument.Parse(await PingAsync(Gateway));
            var backend = ping.RootElement.GetProperty("redis_cache_params");
            return backend.GetProperty("index_synchronised").GetString() == "True" ? backend.GetProperty("index_entries").GetString() : null;
        }
        catch (Xunit.Sdk.XunitException)
        {
            // Not reconnected yet: /cache/ping answers 503.
            return null;
        }
    }
}
