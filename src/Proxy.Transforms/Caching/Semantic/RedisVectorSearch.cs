using System.Globalization;
using StackExchange.Redis;

namespace Proxy.Transforms.Caching.Semantic;

/// <summary>
/// The RediSearch commands used where the Redis server has vector search (Redis Stack, Redis 8 and later): an HNSW
/// index over the entries' hashes (<c>{index}:{id}</c>, the layout the in-process index reads too), and a KNN 1 query
/// filtered by the scope tag. Kept apart so the commands can be checked without such a server.
/// </summary>
internal static class RedisVectorSearch
{
    public const string DistanceField = "vector_distance";

    /// <summary><c>FT._LIST</c>: answers on a server with the search module, "unknown command" on plain Redis.</summary>
    public const string ProbeCommand = "FT._LIST";

    public static object[] CreateIndexArguments(string indexName, int dimensions) =>
    [
        indexName, "ON", "HASH", "PREFIX", "1", indexName + ":",
        "SCHEMA",
        RedisSemanticStore.ScopeField, "TAG",
        RedisSemanticStore.VectorField, "VECTOR", "HNSW", "6", "TYPE", "FLOAT32", "DIM", dimensions.ToString(CultureInfo.InvariantCulture),
        "DISTANCE_METRIC", "COSINE",
    ];

    /// <summary>The nearest entry of <paramref name="scope"/> (a hex hash, so it needs no tag escaping) with its distance and answer.</summary>
    public static object[] SearchArguments(string indexName, string scope, byte[] vector) =>
    [
        indexName,
        $"(@{RedisSemanticStore.ScopeField}:{{{scope}}})=>[KNN 1 @{RedisSemanticStore.VectorField} $vec AS {DistanceField}]",
        "PARAMS", "2", "vec", vector,
        "SORTBY", DistanceField, "ASC",
        "RETURN", "2", DistanceField, RedisSemanticStore.ResponseField,
        "LIMIT", "0", "1",
        "DIALECT", "2",
    ];

    /// <summary>
    /// Reads <c>[total, key, [field, value, ...]]</c>: the entry id (the key without the <c>{index}:</c> prefix), the cosine
    /// similarity (1 − distance) and the answer; null when nothing matched.
    /// </summary>
    public static (string EntryId, double Similarity, byte[]? Response)? ParseSearch(RedisResult result, string indexName)
    {
        if (result.Resp2Type != ResultType.Array || result.Length < 3)
        {
            return null;
        }

        var key = result[1].ToString();
        var prefix = indexName + ":";
        if (!key.StartsWith(prefix, StringComparison.Ordinal) || result[2].Resp2Type != ResultType.Array)
        {
            return null;
        }

        var fields = result[2];
        double? distance = null;
        byte[]? response = null;
        for (var i = 0; i + 1 < fields.Length; i += 2)
        {
            var name = fields[i].ToString();
            if (name == DistanceField && double.TryParse(fields[i + 1].ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
            {
                distance = d;
            }
            else if (name == RedisSemanticStore.ResponseField)
            {
                response = (byte[]?)fields[i + 1];
            }
        }

        return distance is { } value ? (key[prefix.Length..], 1 - value, response) : null;
    }
}
