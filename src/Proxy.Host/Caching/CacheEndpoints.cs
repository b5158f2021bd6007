using System.Text.Json;
using Proxy.Abstractions;
using Proxy.Host.Auth;
using Proxy.Host.Routing;
using Proxy.Transforms.Caching;
using Proxy.Transforms.Caching.Semantic;
using StackExchange.Redis;

namespace Proxy.Host.Caching;

/// <summary>
/// LiteLLM's cache admin routes: <c>GET /cache/ping</c>, <c>POST /cache/delete</c> <c>{"keys": [...]}</c> and
/// <c>POST /cache/flushall</c>. LiteLLM lets any key call them; here they need the master key, since they read the
/// cache's settings and can empty it.
/// </summary>
internal static partial class CacheEndpoints
{
    private const int MaxDeleteBodyBytes = 1024 * 1024;

    public static IEndpointRouteBuilder MapCacheEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/cache/ping", PingAsync);
        endpoints.MapPost("/cache/delete", DeleteAsync);
        endpoints.MapPost("/cache/flushall", FlushAsync);
        return endpoints;
    }

    private static async Task PingAsync(
        HttpContext context, GatewayState state, ResponseCache cache, SemanticCache semantic, IOpenAiErrorWriter errors, ILogger<ResponseCache> logger)
    {
        if (!IsMaster(context, state))
        {
            await errors.WriteAsync(context, NotMaster());
            return;
        }

        CachePing? ping;
        SemanticCachePing? semanticPing;
        try
        {
            ping = await cache.PingAsync(context.RequestAborted);
            semanticPing = ping is null ? await semantic.PingAsync(context.RequestAborted) : null;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException or HttpRequestException or QdrantException)
        {
            Log.PingFailed(logger, ex.Message);
            await errors.WriteAsync(context, Unhealthy(ex.Message));
            return;
        }

        if (semanticPing is not null)
        {
            await WriteSemanticPingAsync(context, semanticPing, semantic.Stats);
            return;
        }

        if (ping is null)
        {
            await errors.WriteAsync(context, NotInitialised());
            return;
        }

        var redis = ping.Options.Backend == CacheBackend.Redis;
        context.Response.ContentType = "application/json";
        // Relaxed escaping: the params are Python-style strings ("['completion', ...]"), shown as LiteLLM shows them.
        await using var json = new Utf8JsonWriter(context.Response.Body, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        json.WriteStartObject();
        json.WriteString("status"u8, "healthy"u8);
        json.WriteString("cache_type"u8, redis ? "redis"u8 : "local"u8);
        if (redis)
        {
            json.WriteBoolean("ping_response"u8, true);
            json.WriteString("set_cache_response"u8, "success"u8);
        }

        WriteMap(json, "litellm_cache_params", ping.Options.DisplayParams);
        WriteMap(json, redis ? "redis_cache_params" : "local_cache_params", ping.Backend);
        var stats = cache.Stats;
        json.WriteStartObject("stats"u8);
        json.WriteNumber("hits"u8, stats.Hits);
        json.WriteNumber("misses"u8, stats.Misses);
        json.WriteNumber("stores"u8, stats.Stores);
        json.WriteNumber("errors"u8, stats.Errors);
        json.WriteNumber("skipped_too_large"u8, stats.SkippedTooLarge);
        json.WriteNumber("evictions"u8, stats.Evictions);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    // The semantic cache's /cache/ping: LiteLLM's shape, with the backend's facts under <backend>_cache_params.
    private static async Task WriteSemanticPingAsync(HttpContext context, SemanticCachePing ping, SemanticCacheStats stats)
    {
        var options = ping.Options;
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        json.WriteStartObject();
        json.WriteString("status"u8, "healthy"u8);
        json.WriteString("cache_type"u8, options.TypeName);
        if (options.Backend != SemanticBackend.Local)
        {
            json.WriteBoolean("ping_response"u8, true);
            json.WriteString("set_cache_response"u8, "success"u8);
        }

        WriteMap(json, "litellm_cache_params", options.Common.DisplayParams);
        WriteMap(json, options.Backend switch
        {
            SemanticBackend.Redis => "redis_cache_params",
            SemanticBackend.Qdrant => "qdrant_cache_params",
            _ => "local_cache_params",
        }, ping.Backend);
        json.WriteStartObject("stats"u8);
        json.WriteNumber("hits"u8, stats.Hits);
        json.WriteNumber("exact_text_hits"u8, stats.ExactHits);
        json.WriteNumber("misses"u8, stats.Misses);
        json.WriteNumber("stores"u8, stats.Stores);
        json.WriteNumber("errors"u8, stats.Errors);
        json.WriteNumber("embedding_failures"u8, stats.EmbeddingFailures);
        json.WriteNumber("embedding_skipped"u8, stats.EmbeddingSkipped);
        json.WriteNumber("skipped_too_large"u8, stats.SkippedTooLarge);
        json.WriteNumber("evictions"u8, stats.Evictions);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static async Task DeleteAsync(HttpContext context, GatewayState state, ResponseCache cache, SemanticCache semantic, IOpenAiErrorWriter errors)
    {
        if (!IsMaster(context, state))
        {
            await errors.WriteAsync(context, NotMaster());
            return;
        }

        var keys = await ReadKeysAsync(context);
        if (keys is null)
        {
            await errors.WriteAsync(context, new GatewayError(400, "invalid_request_error",
                "Send the keys to delete as {\"keys\": [\"<x-litellm-cache-key>\", ...]}.", "keys"));
            return;
        }

        try
        {
            if ((await cache.DeleteAsync(keys, context.RequestAborted) ?? await semantic.DeleteAsync(keys, context.RequestAborted)) is null)
            {
                await errors.WriteAsync(context, NotInitialised());
                return;
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException or HttpRequestException or QdrantException)
        {
            await errors.WriteAsync(context, new GatewayError(500, "internal_server_error", $"Cache Delete Failed({ex.Message})"));
            return;
        }

        await WriteSuccessAsync(context);
    }

    private static async Task FlushAsync(HttpContext context, GatewayState state, ResponseCache cache, SemanticCache semantic, IOpenAiErrorWriter errors)
    {
        if (!IsMaster(context, state))
        {
            await errors.WriteAsync(context, NotMaster());
            return;
        }

        try
        {
            if ((await cache.FlushAsync(context.RequestAborted) ?? await semantic.FlushAsync(context.RequestAborted)) is null)
            {
                await errors.WriteAsync(context, NotInitialised());
                return;
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException or HttpRequestException or QdrantException)
        {
            await errors.WriteAsync(context, Unhealthy(ex.Message));
            return;
        }

        await WriteSuccessAsync(context);
    }

    private static async Task<IReadOnlyList<string>?> ReadKeysAsync(HttpContext context)
    {
        if (context.Request.ContentLength is > MaxDeleteBodyBytes)
        {
            return null;
        }

        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var list = new List<string>(keys.GetArrayLength());
            foreach (var key in keys.EnumerateArray())
            {
                if (key.ValueKind != JsonValueKind.String)
                {
                    return null;
                }

                list.Add(key.GetString()!);
            }

            return list;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static Task WriteSuccessAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        return context.Response.Body.WriteAsync("{\"status\":\"success\"}"u8.ToArray(), context.RequestAborted).AsTask();
    }

    private static void WriteMap(Utf8JsonWriter json, string name, IReadOnlyList<KeyValuePair<string, string>> values)
    {
        json.WriteStartObject(name);
        foreach (var (key, value) in values)
        {
            json.WriteString(key, value);
        }

        json.WriteEndObject();
    }

    // The auth middleware has accepted the key already; only the master key (or an open gateway) may go on.
    private static bool IsMaster(HttpContext context, GatewayState state)
    {
        var snapshot = state.Current;
        if (!snapshot.MasterKey.IsConfigured || GatewayRequestContext.Get(context) is { IsMasterKey: true })
        {
            return true;
        }

        return snapshot.MasterKey.Matches(GatewayAuthMiddleware.PresentedKey(context.Request.Headers, snapshot.Config.GeneralSettings.LitellmKeyHeaderName));
    }

    private static GatewayError NotMaster() => new(403, "auth_error", "Only the master key may use the /cache endpoints.");

    private static GatewayError NotInitialised() => new(503, "service_unavailable",
        "Cache not initialized. litellm.cache is None. Set litellm_settings.cache: true (and cache_params) in the config.");

    private static GatewayError Unhealthy(string reason) => new(503, "service_unavailable",
        $"Service Unhealthy ({reason}). Check that the cache's Redis is running and reachable.");

    private static partial class Log
    {
        [LoggerMessage(1302, LogLevel.Warning, "/cache/ping failed: {Reason}")]
        public static partial void PingFailed(ILogger logger, string reason);
    }
}
