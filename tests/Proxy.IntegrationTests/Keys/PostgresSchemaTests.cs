using Proxy.Admin.Storage;

namespace Proxy.IntegrationTests.Keys;

[Collection(PostgresCollection.Name)]
public sealed class PostgresSchemaTests
{
    [Fact]
    public async Task Replicas_starting_together_create_the_schema_once_without_errors()
    {
        var database = await PostgresDatabase.CreateAsync();
        var stores = Enumerable.Range(0, 6).Select(_ => new PostgresKeyStore(database.ConnectionString, TimeSpan.FromSeconds(5))).ToList();
        try
        {
            await Task.WhenAll(stores.Select(s => s.EnsureSchemaAsync(CancellationToken.None)));
            // And again, as every later start does.
            await Task.WhenAll(stores.Select(s => s.EnsureSchemaAsync(CancellationToken.None)));

            var tables = await database.ScalarAsync<long>(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_name IN ('LiteLLM_VerificationToken', 'LiteLLM_SpendLogs', 'LiteLLM_ProxyModelTable')");
            Assert.Equal(3, tables);
            Assert.True(await stores[0].PingAsync(CancellationToken.None));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }
}
