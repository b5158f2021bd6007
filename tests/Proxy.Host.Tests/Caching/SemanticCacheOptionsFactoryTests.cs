using System.Text;
using Proxy.Host.Caching;
using Proxy.Host.Config;
using Proxy.Host.Tests.Config;
using Proxy.Transforms.Caching;
using Proxy.Transforms.Caching.Semantic;

namespace Proxy.Host.Tests.Caching;

public sealed class SemanticCacheOptionsFactoryTests
{
    [Fact]
    public void Redis_semantic_takes_litellms_keys_and_redis_variables()
    {
        var env = new FakeEnvironment(("REDIS_HOST", "redis-cache"), ("REDIS_PORT", "6380"));
        var (result, settings) = Load("""
            type: redis-semantic
            similarity_threshold: 0.85
            redis_semantic_cache_embedding_model: bge-small
            redis_semantic_cache_index_name: my_index
            semantic_cache_embedding_timeout: 0.5
            semantic_cache_embedding_max_input_tokens: 512
            ttl: 3600
            supported_call_types: ["acompletion"]
            """, env);

        Assert.DoesNotContain(result.Diagnostics, d => d.Severity != ConfigSeverity.Info && d.Path.StartsWith("litellm_settings", StringComparison.Ordinal));
        var options = SemanticCacheOptionsFactory.Build(settings, env.Get, out var problem);
        Assert.Null(problem);
        Assert.NotNull(options);
        Assert.Equal(SemanticBackend.Redis, options.Backend);
        Assert.Equal(0.85, options.SimilarityThreshold);
        Assert.Equal("bge-small", options.EmbeddingModel);
        Assert.Equal("my_index", options.IndexName);
        Assert.Equal(TimeSpan.FromSeconds(0.5), options.EmbeddingTimeout);
        Assert.Equal(512, options.EmbeddingMaxInputTokens);
        Assert.Equal(TimeSpan.FromHours(1), options.Common.Ttl);
        Assert.Equal("redis-cache:6380", options.Common.RedisEndpoint);
        Assert.Equal([Abstractions.OpenAiEndpoint.ChatCompletions], options.Common.Endpoints);
        Assert.Equal("my_index:0123", options.EntryKey("0123"));
        // The exact cache stays off for a semantic type, and says nothing about it.
        Assert.Null(CacheOptionsFactory.Build(settings, env.Get, out var exactProblem));
        Assert.Null(exactProblem);
    }

    [Fact]
    public void Defaults_follow_litellm()
    {
        var (_, settings) = Load("type: redis-semantic\nsimilarity_threshold: 0.9");

        var options = SemanticCacheOptionsFactory.Build(settings, _ => null, out _)!;

        Assert.Equal("text-embedding-ada-002", options.EmbeddingModel);
        Assert.Equal("litellm_semantic_cache_index", options.IndexName);
        Assert.Null(options.Common.Ttl);
        Assert.Equal("localhost:6379", options.Common.RedisEndpoint);
    }

    [Fact]
    public void Similarity_threshold_is_required_and_at_most_one()
    {
        var (missing, _) = Load("type: local-semantic");
        var (tooHigh, _) = Load("type: redis-semantic\nsimilarity_threshold: 1.5");

        Assert.Contains(missing.Diagnostics, d => d.Severity == ConfigSeverity.Error && d.Path == "litellm_settings.cache_params.similarity_threshold");
        Assert.Contains(tooHigh.Diagnostics, d => d.Severity == ConfigSeverity.Error && d.Message.Contains("between 0 and 1", StringComparison.Ordinal));
    }

    [Fact]
    public void Qdrant_needs_a_collection_and_a_url_from_the_config_or_the_environment()
    {
        var (noCollection, _) = Load("type: qdrant-semantic\nsimilarity_threshold: 0.8\nqdrant_api_base: http://q:6333");
        Assert.Contains(noCollection.Diagnostics, d => d.Severity == ConfigSeverity.Error && d.Path == "litellm_settings.cache_params.qdrant_collection_name");

        var (_, settings) = Load("type: qdrant-semantic\nsimilarity_threshold: 0.8\nqdrant_collection_name: c\nqdrant_quantization_config: scalar");
        Assert.Null(SemanticCacheOptionsFactory.Build(settings, _ => null, out var problem));
        Assert.Contains("qdrant_api_base", problem, StringComparison.Ordinal);

        var env = new FakeEnvironment(("QDRANT_URL", "http://qdrant:6333"), ("QDRANT_API_KEY", "secret-key"));
        var options = SemanticCacheOptionsFactory.Build(settings, env.Get, out problem)!;
        Assert.Null(problem);
        Assert.Equal(new Uri("http://qdrant:6333/"), options.QdrantApiBase);
        Assert.Equal("secret-key", options.QdrantApiKey.Value);
        Assert.Equal("scalar", options.QdrantQuantization);
        Assert.Equal(TimeSpan.FromSeconds(1), options.Common.OperationTimeout);
        Assert.DoesNotContain(options.Common.DisplayParams, p => p.Value.Contains("secret-key", StringComparison.Ordinal));
    }

    [Fact]
    public void A_threshold_change_keeps_the_store_and_a_new_index_name_does_not()
    {
        var (_, a) = Load("type: redis-semantic\nsimilarity_threshold: 0.8");
        var (_, b) = Load("type: redis-semantic\nsimilarity_threshold: 0.9");
        var (_, c) = Load("type: redis-semantic\nsimilarity_threshold: 0.8\nredis_semantic_cache_index_name: other");
        var first = SemanticCacheOptionsFactory.Build(a, _ => null, out _)!;
        var second = SemanticCacheOptionsFactory.Build(b, _ => null, out _)!;
        var third = SemanticCacheOptionsFactory.Build(c, _ => null, out _)!;

        Assert.Equal(first.StoreIdentity, second.StoreIdentity);
        Assert.NotEqual(SemanticCacheOptionsFactory.Fingerprint(first), SemanticCacheOptionsFactory.Fingerprint(second));
        Assert.NotEqual(first.StoreIdentity, third.StoreIdentity);
    }

    [Fact]
    public void Embedding_answers_are_read_as_floats_or_base64()
    {
        float[] expected = [0.25f, -1.5f, 3f];
        var floats = """{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.25,-1.5,3]}],"usage":{"prompt_tokens":1}}""";
        var base64 = $$"""{"data":[{"index":0,"embedding":"{{Convert.ToBase64String(SemanticVectors.ToBytes(expected))}}"}]}""";

        Assert.Equal(expected, LoopbackEmbedder.ReadEmbedding(Encoding.UTF8.GetBytes(floats)));
        Assert.Equal(expected, LoopbackEmbedder.ReadEmbedding(Encoding.UTF8.GetBytes(base64)));
        Assert.Null(LoopbackEmbedder.ReadEmbedding("""{"data":[]}"""u8));
        Assert.Null(LoopbackEmbedder.ReadEmbedding("not json"u8));
    }

    [Fact]
    public void An_embedding_model_that_is_no_model_group_is_warned_about()
    {
        var env = new FakeEnvironment();
        const string Models = "model_list:\n  - model_name: chat\n    litellm_params:\n      model: hosted_vllm/x\n      api_base: http://x/v1\n";
        var missing = ConfigLoader.Parse(Models + "litellm_settings:\n  cache: true\n  cache_params:\n    type: local-semantic\n    similarity_threshold: 0.8\n    redis_semantic_cache_embedding_model: embed\n",
            "config.yaml", env.Get, env.Set);
        var present = ConfigLoader.Parse(Models + "litellm_settings:\n  cache: true\n  cache_params:\n    type: local-semantic\n    similarity_threshold: 0.8\n    redis_semantic_cache_embedding_model: chat\n",
            "config.yaml", env.Get, env.Set);

        var warning = Assert.Single(missing.Diagnostics, d => d.Path == "litellm_settings.cache_params.redis_semantic_cache_embedding_model");
        Assert.Equal(ConfigSeverity.Warning, warning.Severity);
        Assert.DoesNotContain(present.Diagnostics, d => d.Path.StartsWith("litellm_settings", StringComparison.Ordinal));
    }

    private static (ConfigLoadResult Result, LitellmSettings Settings) Load(string cacheParams, FakeEnvironment? env = null)
    {
        env ??= new FakeEnvironment();
        var indented = string.Join("\n", cacheParams.Split('\n').Select(line => "    " + line));
        var result = ConfigLoader.Parse($"litellm_settings:\n  cache: true\n  cache_params:\n{indented}\n", "config.yaml", env.Get, env.Set);
        return (result, result.Config?.LitellmSettings ?? new LitellmSettings());
    }
}
