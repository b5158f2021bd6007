using Proxy.Admin.Budgets;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Keys;

/// <summary>Virtual keys for the host's auth middleware: hash, cache hit or one store lookup, then blocked/expired checks.</summary>
internal sealed class VirtualKeyAuthenticator(KeyCache cache, IKeyStore store, TimeProvider time) : IVirtualKeyAuthenticator
{
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
        KeyRow? row;
        try
        {
            row = await store.FindKeyAsync(hash, cancellationToken);
        }
        catch (StoreUnavailableException)
        {
            return KeyErrors.DatabaseDown();
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
