namespace Proxy.Transforms.Body;

/// <summary>A request body read into pooled memory; when <paramref name="TooLarge"/>, <paramref name="Body"/> is empty.</summary>
public readonly record struct BodyReadResult(PooledBuffer Body, bool TooLarge);
