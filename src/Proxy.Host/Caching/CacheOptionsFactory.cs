using System.Globalization;
using System.Text;
using Proxy.Abstractions;
using Proxy.Host.Config;
using Proxy.Transforms.Caching;

namespace Proxy.Host.Caching;

/// <summary>Turns <c>litellm_settings.cache</c> / <c>cache_params</c> (and LiteLLM's REDIS_* variables) into <see cref="CacheOptions"/>.</summary>
internal static class CacheOptionsFactory
{
    /// <summary>Null when caching is off; <paramref name="problem"/> says why a requested cache cannot run.</summary>
    public static CacheOptions? Build(LitellmSettings settings, Func<string, string?> getEnv, out string? problem)
    {
        problem = null;
        if (!settings.Cache || SemanticCacheOptionsFactory.IsSemantic(settings.CacheParams.Type))
        {
            // A semantic type is the semantic cache's (SemanticCacheOptionsFactory); the exact cache stays off then.
            return null;
        }

        var p = settings.CacheParams;
        var backend = p.Type switch
        {
            "local" => CacheBackend.Local,
            "redis" => CacheBackend.Redis,
            _ => (CacheBackend?)null,
        };
        if (backend is null)
        {
            problem = $"cache_params.type \"{p.Type}\" is not supported here (local, redis, redis-semantic, qdrant-semantic and local-semantic are); the response cache is off";
            return null;
        }

        var ttl = p.Ttl ?? (backend == CacheBackend.Local ? p.DefaultInMemoryTtl : p.DefaultInRedisTtl);
        return BuildCommon(p, backend.Value, ttl, TimeSpan.FromSeconds(p.SocketTimeout ?? 0.1), getEnv, out problem);
    }

    /// <summary>What the exact and the semantic cache share: mode, namespace, ttl, call types, bounds and the Redis address.</summary>
    internal static CacheOptions? BuildCommon(CacheParams p, CacheBackend backend, double? ttl, TimeSpan operationTimeout, Func<string, string?> getEnv, out string? problem)
    {
        problem = null;
        var options = new CacheOptions
        {
            Backend = backend,
            OptIn = p.Mode == "default_off",
            Namespace = string.IsNullOrEmpty(p.Namespace) ? null : p.Namespace,
            Scope = p.Scope switch { "key" => CacheScope.Key, "team" => CacheScope.Team, _ => CacheScope.Global },
            Ttl = ttl is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
            Endpoints = EndpointsFor(p.SupportedCallTypes),
            OperationTimeout = operationTimeout,
            MaxItemBytes = Math.Min(p.MaxItemKb ?? 1024, 1024 * 1024) * 1024,
            MaxMemoryBytes = (p.MaxMemoryKb ?? 256 * 1024) * 1024,
        };
        if (backend == CacheBackend.Redis)
        {
            options = WithRedis(options, p, getEnv, out problem);
            if (problem is not null)
            {
                return null;
            }
        }

        return options with { DisplayParams = Display(options, p) };
    }

    /// <summary>Everything that matters, for telling a changed cache config from an unchanged one.</summary>
    public static string Fingerprint(CacheOptions options)
    {
        var text = new StringBuilder(options.StoreIdentity);
        text.Append('|').Append(options.OptIn).Append('|').Append(options.Namespace).Append('|').Append(options.Scope).Append('|').Append(options.Ttl)
            .Append('|').Append(options.MaxItemBytes).Append('|');
        foreach (var endpoint in options.Endpoints.Order())
        {
            text.Append(endpoint).Append(',');
        }

        return text.ToString();
    }

    /// <summary>A <c>redis://[user:]password@host:port/db</c> or <c>rediss://</c> URL; false for anything else.</summary>
    public static bool TryParseRedisUrl(string url, out RedisAddress address)
    {
        address = default;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("redis" or "rediss"))
        {
            return false;
        }

        string? user = null;
        string? password = null;
        if (uri.UserInfo.Length > 0)
        {
            var parts = Uri.UnescapeDataString(uri.UserInfo).Split(':', 2);
            user = parts.Length == 2 && parts[0].Length > 0 ? parts[0] : null;
            password = parts.Length == 2 ? parts[1] : parts[0];
        }

        int? database = uri.AbsolutePath.Trim('/') is { Length: > 0 } path && int.TryParse(path, CultureInfo.InvariantCulture, out var db) ? db : null;
        address = new RedisAddress(uri.Host, uri.IsDefaultPort || uri.Port <= 0 ? 6379 : uri.Port, user, new Secret(password ?? ""), uri.Scheme == "rediss", database);
        return true;
    }

    // LiteLLM: an explicit redis_url (or REDIS_URL when no host is given) wins; otherwise host/port/password, each
    // falling back to REDIS_HOST / REDIS_PORT / REDIS_PASSWORD.
    private static CacheOptions WithRedis(CacheOptions options, CacheParams p, Func<string, string?> getEnv, out string? problem)
    {
        problem = null;
        var url = p.RedisUrl?.Value;
        if (string.IsNullOrEmpty(url) && p.Host is null)
        {
            url = getEnv("REDIS_URL");
        }

        var database = p.Db ?? 0;
        if (!string.IsNullOrEmpty(url))
        {
            if (!TryParseRedisUrl(url, out var address))
            {
                problem = "cache_params.redis_url (or REDIS_URL) is not a redis:// or rediss:// URL; the response cache is off";
                return options;
            }

            return options with
            {
                RedisHost = address.Host,
                RedisPort = address.Port,
                RedisUser = address.User,
                RedisPassword = address.Password,
                RedisSsl = address.Ssl,
                RedisDatabase = address.Database ?? database,
            };
        }

        var host = p.Host ?? getEnv("REDIS_HOST");
        var port = p.Port;
        if (port is null && int.TryParse(getEnv("REDIS_PORT"), CultureInfo.InvariantCulture, out var envPort))
        {
            port = envPort;
        }

        var passwordValue = p.Password?.Value;
        if (string.IsNullOrEmpty(passwordValue))
        {
            passwordValue = getEnv("REDIS_PASSWORD");
        }

        return options with
        {
            RedisHost = string.IsNullOrEmpty(host) ? "localhost" : host,
            RedisPort = port ?? 6379,
            RedisPassword = new Secret(passwordValue ?? ""),
            RedisDatabase = database,
        };
    }

    private static IReadOnlySet<OpenAiEndpoint> EndpointsFor(IReadOnlyList<string>? callTypes)
    {
        if (callTypes is null)
        {
            return CacheOptions.AllEndpoints;
        }

        var endpoints = new HashSet<OpenAiEndpoint>();
        foreach (var callType in callTypes)
        {
            switch (callType)
            {
                case "completion" or "acompletion":
                    endpoints.Add(OpenAiEndpoint.ChatCompletions);
                    break;
                case "text_completion" or "atext_completion":
                    endpoints.Add(OpenAiEndpoint.Completions);
                    break;
                case "embedding" or "aembedding":
                    endpoints.Add(OpenAiEndpoint.Embeddings);
                    break;
                case "responses" or "aresponses":
                    // Only store: false requests (see ResponseCacheStage).
                    endpoints.Add(OpenAiEndpoint.Responses);
                    break;
                default:
                    // transcription, rerank: not cached by this gateway yet.
                    break;
            }
        }

        return endpoints;
    }

    // What LiteLLM's /cache/ping prints as litellm_cache_params: Python str() of each setting.
    private static IReadOnlyList<KeyValuePair<string, string>> Display(CacheOptions options, CacheParams p) =>
    [
        new("type", p.Type),
        new("namespace", options.Namespace ?? "None"),
        new("ttl", options.Ttl is { } ttl ? ttl.TotalSeconds.ToString(CultureInfo.InvariantCulture) : "None"),
        new("mode", options.OptIn ? "CacheMode.default_off" : "CacheMode.default_on"),
        new("supported_call_types", p.SupportedCallTypes is null
            ? "['completion', 'acompletion', 'embedding', 'aembedding', 'text_completion', 'atext_completion']"
            : "[" + string.Join(", ", p.SupportedCallTypes.Select(t => "'" + t + "'")) + "]"),
    ];
}
