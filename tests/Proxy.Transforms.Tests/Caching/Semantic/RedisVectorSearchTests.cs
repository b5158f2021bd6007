using System.Text;
using Proxy.Transforms.Caching.Semantic;
using StackExchange.Redis;

namespace Proxy.Transforms.Tests.Caching.Semantic;

/// <summary>
/// The FT.CREATE / FT.SEARCH commands for Redis servers with vector search. The test Redis (Debian's 7.0) has no
/// search module, so only the commands and the answer parsing are checked here, against RediSearch's documented syntax.
/// </summary>
public sealed class RedisVectorSearchTests
{
    [Fact]
    public void Index_is_an_hnsw_cosine_index_over_the_entries_hashes()
    {
        var arguments = RedisVectorSearch.CreateIndexArguments("litellm_semantic_cache_index", 384);

        Assert.Equal(
            "litellm_semantic_cache_index ON HASH PREFIX 1 litellm_semantic_cache_index: SCHEMA litellm_cache_key TAG "
            + "prompt_vector VECTOR HNSW 6 TYPE FLOAT32 DIM 384 DISTANCE_METRIC COSINE",
            string.Join(' ', arguments));
    }

    [Fact]
    public void Search_is_a_knn_1_query_within_the_scope_tag()
    {
        var vector = SemanticVectors.ToBytes([1f, 0f]);
        var arguments = RedisVectorSearch.SearchArguments("idx", "ab12", vector);

        Assert.Equal("idx", arguments[0]);
        Assert.Equal("(@litellm_cache_key:{ab12})=>[KNN 1 @prompt_vector $vec AS vector_distance]", arguments[1]);
        Assert.Equal(["PARAMS", "2", "vec"], arguments[2..5]);
        Assert.Same(vector, arguments[5]);
        Assert.Equal("SORTBY vector_distance ASC RETURN 2 vector_distance response LIMIT 0 1 DIALECT 2", string.Join(' ', arguments[6..]));
    }

    [Fact]
    public void Answer_gives_the_entry_the_similarity_and_the_response()
    {
        var result = RedisResult.Create(
        [
            RedisResult.Create(1),
            RedisResult.Create((RedisValue)"idx:0123456789abcdef0123456789abcdef"),
            RedisResult.Create(
            [
                RedisResult.Create((RedisValue)"vector_distance"),
                RedisResult.Create((RedisValue)"0.125"),
                RedisResult.Create((RedisValue)"response"),
                RedisResult.Create((RedisValue)Encoding.UTF8.GetBytes("{\"timestamp\":1,\"response\":{}}")),
            ]),
        ]);

        var parsed = RedisVectorSearch.ParseSearch(result, "idx");

        Assert.NotNull(parsed);
        Assert.Equal("0123456789abcdef0123456789abcdef", parsed.Value.EntryId);
        Assert.Equal(0.875, parsed.Value.Similarity);
        Assert.Equal("{\"timestamp\":1,\"response\":{}}", Encoding.UTF8.GetString(parsed.Value.Response!));
    }

    [Fact]
    public void No_match_or_a_foreign_key_is_no_answer()
    {
        Assert.Null(RedisVectorSearch.ParseSearch(RedisResult.Create([RedisResult.Create(0)]), "idx"));
        var foreign = RedisResult.Create(
        [
            RedisResult.Create(1),
            RedisResult.Create((RedisValue)"other:1"),
            RedisResult.Create([RedisResult.Create((RedisValue)"vector_distance"), RedisResult.Create((RedisValue)"0.1")]),
        ]);
        Assert.Null(RedisVectorSearch.ParseSearch(foreign, "idx"));
    }
}
