namespace Proxy.Admin.Keys;

/// <summary>A key's per-minute request and token counts and its requests in flight (in-process counters).</summary>
internal sealed class KeyWindow
{
    public readonly Lock Gate = new();

    public long Minute;

    public long Requests;

    public long Tokens;

    public long InFlight;
}
