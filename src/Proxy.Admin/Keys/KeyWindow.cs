namespace Proxy.Admin.Keys;

/// <summary>
/// A key's per-minute request and token counts and its requests in flight, counted here; plus what the other replicas
/// reported at the last sync when limits are shared through Redis (zero otherwise).
/// </summary>
internal sealed class KeyWindow
{
    public readonly Lock Gate = new();

    public long Minute;

    public long Requests;

    public long Tokens;

    public long InFlight;

    /// <summary>The minute <see cref="OthersRequests"/> and <see cref="OthersTokens"/> belong to.</summary>
    public long OthersMinute;

    public long OthersRequests;

    public long OthersTokens;

    public long OthersInFlight;
}
