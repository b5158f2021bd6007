namespace Proxy.IntegrationTests.Caching;

/// <summary>
/// Tests that use the shared test Redis. Not run in parallel with anything, because the fault test stops Redis and the
/// others would see it gone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RedisCollection
{
    public const string Name = "Redis";
}
