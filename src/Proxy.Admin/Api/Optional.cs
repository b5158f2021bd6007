namespace Proxy.Admin.Api;

/// <summary>A field of an update that was present in the body (even if null) or absent.</summary>
internal readonly record struct Optional<T>(T Value)
{
    public bool IsSet { get; } = true;
}
