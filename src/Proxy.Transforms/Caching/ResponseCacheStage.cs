using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Proxy.Transforms.Usage;

namespace Proxy.Transforms.Caching;

/// <summary>
/// The cache lookup, after keys and guardrails and before routing: a fresh hit is written here (no deployment is
/// called, cost 0); a miss registers a <see cref="CacheStoreTap"/> so the upstream's answer is stored as it passes.
/// </summary>
internal sealed class ResponseCacheStage(ResponseCache cache, IOpenAiErrorWriter errors) : IGatewayRequestStage
{
    public int Order => 300;

    public ValueTask<bool> InvokeAsync(HttpContext context, GatewayRequestContext request, ReadOnlyMemory<byte> body)
    {
        var active = cache.Current;
        if (active is null || request.ModelGroup is null || !active.Options.Endpoints.Contains(request.Endpoint))
        {
            return ValueTask.FromResult(false);
        }

        // A stored response has an id to continue from and fetch: only store: false requests are answered from a cache.
        if (request.Endpoint == OpenAiEndpoint.Responses && !IsNotStored(body.Span))
        {
            return ValueTask.FromResult(false);
        }

        var control = default(CacheControl);
        var key = CacheKeyBuilder.Build(body.Span, request.Endpoint, request.ModelGroup, active.Options.Namespace, ScopeOf(context, request, active.Options.Scope), ref control);
        CacheKeyBuilder.ApplyHeader(context.Request.Headers, ref control);
        if (key is null || (active.Options.OptIn && !control.UseCache))
        {
            return ValueTask.FromResult(false);
        }

        if (control.Ttl > CacheOptions.MaxTtlSeconds)
        {
            return RefuseAsync(context, new GatewayError(400, "invalid_request_error",
                $"cache.ttl must be at most {CacheOptions.MaxTtlSeconds} seconds (ten years); send a smaller ttl.", "cache"));
        }

        request.Outcome.CacheKey = key;
        var ttl = control.Ttl is { } seconds ? TimeSpan.FromSeconds(seconds) : active.Options.Ttl;
        if (control.NoCache)
        {
            Register(request, active, key, control.NoStore, ttl);
            return ValueTask.FromResult(false);
        }

        return LookupAsync(context, request, active, key, control.MaxAge, control.NoStore, ttl);
    }

    // Key scope keeps one key's answers from another's; team scope falls back to the key when the key has no team.
    // The master key (and an open gateway) is one scope of its own.
    internal static string? ScopeOf(HttpContext context, GatewayRequestContext request, CacheScope scope) => scope switch
    {
        CacheScope.Key => KeyScope(request),
        CacheScope.Team => context.Features.Get<RequestTenant>()?.TeamId is { Length: > 0 } team ? "team:" + team : KeyScope(request),
        _ => null,
    };

    /// <summary>A Responses API body with <c>store: false</c>.</summary>
    internal static bool IsNotStored(ReadOnlySpan<byte> body)
    {
        var reader = new System.Text.Json.Utf8JsonReader(body);
        while (reader.Read())
        {
            if (reader.CurrentDepth == 1 && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
            {
                var isStore = reader.ValueTextEquals("store"u8);
                reader.Read();
                if (isStore)
                {
                    return reader.TokenType == System.Text.Json.JsonTokenType.False;
                }

                reader.Skip();
            }
        }

        return false;
    }

    private static string KeyScope(GatewayRequestContext request) => request.Caller.KeyHash is { } key ? "key:" + key : "master";

    private async ValueTask<bool> RefuseAsync(HttpContext context, GatewayError error)
    {
        await errors.WriteAsync(context, error);
        return true;
    }

    private async ValueTask<bool> LookupAsync(
        HttpContext context, GatewayRequestContext request, ActiveCache active, string key, double? maxAge, bool noStore, TimeSpan? ttl)
    {
        var entry = await cache.TryGetAsync(active, key, context.RequestAborted);
        if (entry is { } stored && CacheEntry.TryRead(stored, out var storedAt, out var response) && IsFresh(storedAt, maxAge)
            && await CachedResponseWriter.TryWriteAsync(context, request, response, key, cache.Time, errors))
        {
            RecordHit(request, response.Span);
            cache.Stats.OnHit();
            return true;
        }

        cache.Stats.OnMiss();
        Register(request, active, key, noStore, ttl);
        return false;
    }

    /// <summary>
    /// A request answered from a cache: no deployment was called, cost 0. Spend logs and metrics show the hit's tokens
    /// (at cost 0), as LiteLLM logs them; the top-level usage follows the choices.
    /// </summary>
    internal static void RecordHit(GatewayRequestContext request, ReadOnlySpan<byte> response)
    {
        var known = TryReadUsage(response, out var usage);
        request.Outcome.CacheHitServed(known ? usage.PromptTokens : null, known ? usage.CompletionTokens : null);
    }

    internal static bool TryReadUsage(ReadOnlySpan<byte> response, out TokenUsage usage)
    {
        usage = default;
        var at = response.LastIndexOf("\"usage\""u8);
        return at >= 0 && UsageParser.TryParse(response[(at + 7)..], out usage);
    }

    private bool IsFresh(DateTimeOffset storedAt, double? maxAge) =>
        maxAge is not { } seconds || (cache.Time.GetUtcNow() - storedAt).TotalSeconds <= seconds;

    private void Register(GatewayRequestContext request, ActiveCache active, string key, bool noStore, TimeSpan? ttl)
    {
        if (!noStore)
        {
            request.AddResponseTap(new CacheStoreTap(new ExactAnswerSink(cache, active, key, ttl), request));
        }
    }
}
