using Proxy.Admin.Budgets;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Keys;

/// <summary>
/// Virtual keys for the host's auth middleware: hash, cache hit or one store lookup, then blocked/expired checks. Store
/// lookups for keys the cache does not know are bounded in concurrency, so a flood of made-up keys (from many addresses,
/// past the per-address throttle) queues briefly and then gets a 503 instead of exhausting the database's connections.
/// </summary>
internal sealed class VirtualKeyAuthenticator(KeyCache cache, IKeyStore store, IKeyLimitCounters counters, TimeProvider time) : IVirtualKeyAuthenticator
{
    internal const int MaxConcurrentLookups = 16;

    private static readonly TimeSpan LookupQueueTimeout = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim _lookups = new(MaxConcurrentLookups, MaxConcurrentLookups);

    public GatewayError? CheckLimitsBeforeBody(GatewayRequestContext request)
    {
        if (request.Caller.KeyHash is not { } hash || !cache.TryGet(hash, out var key))
        {
            return null;
        }

        var now = time.GetUtcNow();
        var outcome = counters.Peek(key, now);
        return outcome.Refused == LimitKind.None ? null : KeyErrors.RateLimited(key.Token, outcome, now);
    }

    public bool AllowsModel(GatewayRequestContext request, string requested, string group) =>
        request.Caller.KeyHash is not { } hash || !cache.TryGet(hash, out var key) || key.Settings.AllowsModel(requested, group);

    public VirtualKeyCheck Check(ReadOnlySpan<char> presented, GatewayRequestContext request, out GatewayError error)
    {
        if (!presented.StartsWith("sk-", StringComparison.Ordinal))
        {
            error = KeyErrors.NotVirtualKey(Abbreviate(presented));
            return VirtualKeyCheck.Rejected;
        }

        Span<char> hash = stackalloc char[KeyHasher.HashLength];
        if (!KeyHasher.TryHash(presented, hash))
        {
            error = GatewayError.InvalidApiKey(Abbreviate(presented));
            return VirtualKeyCheck.Rejected;
        }

        if (cache.TryGet(hash, out var entry))
        {
            return Admit(entry, request, out error);
        }

        if (cache.IsKnownUnknown(hash))
        {
            error = GatewayError.InvalidApiKey(Abbreviate(presented));
            return VirtualKeyCheck.Rejected;
        }

        error = default;
        return VirtualKeyCheck.Unknown;
    }

    public async ValueTask<GatewayError?> LookupAsync(string presented, GatewayRequestContext request, CancellationToken cancellationToken)
    {
        var hash = KeyHasher.Hash(presented);
        if (!await _lookups.WaitAsync(LookupQueueTimeout, cancellationToken))
        {
            return KeyErrors.LookupsBusy();
        }

        KeyRow? row;
        try
        {
            // Another request may have loaded (or refuted) the same key while this one queued.
            if (cache.TryGet(hash, out var loaded))
            {
                return Admit(loaded, request, out var cachedError) == VirtualKeyCheck.Accepted ? null : cachedError;
            }

            if (cache.IsKnownUnknown(hash))
            {
                return GatewayError.InvalidApiKey(Abbreviate(presented));
            }

            row = await store.FindKeyAsync(hash, cancellationToken);
        }
        catch (StoreUnavailableException)
        {
            return KeyErrors.DatabaseDown();
        }
        finally
        {
            _lookups.Release();
        }

        if (row is null)
        {
            cache.RememberUnknown(hash);
            return GatewayError.InvalidApiKey(Abbreviate(presented));
        }

        var entry = cache.Put(KeySettings.From(row));
        return Admit(entry, request, out var error) == VirtualKeyCheck.Accepted ? null : error;
    }

    private VirtualKeyCheck Admit(KeyEntry entry, GatewayRequestContext request, out GatewayError error)
    {
        var settings = entry.Settings;
        if (settings.Blocked)
        {
            error = KeyErrors.Blocked();
            return VirtualKeyCheck.Rejected;
        }

        if (settings.ExpiresMs is { } expires)
        {
            var now = time.GetUtcNow();
            if (now.ToUnixTimeMilliseconds() >= expires)
            {
                error = KeyErrors.Expired(expires, now);
                return VirtualKeyCheck.Rejected;
            }
        }

        request.Authenticate(settings.Caller);
        error = default;
        return VirtualKeyCheck.Accepted;
    }

    // Enough to recognise which key was sent, never enough to use it.
    private static string Abbreviate(ReadOnlySpan<char> key) =>
        key.Length <= 8 ? "***" : string.Concat(key[..3], "...", key[^4..]);
}
