namespace Proxy.IntegrationTests.Keys;

/// <summary>Tests that use the shared test PostgreSQL run one class at a time, because the outage test stops it.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection
{
    public const string Name = "Postgres";
}
