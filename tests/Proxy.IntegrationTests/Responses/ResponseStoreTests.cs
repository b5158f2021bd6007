using Proxy.Abstractions;
using Proxy.Admin;
using Proxy.Admin.Responses;
using Proxy.Admin.Storage;
using Proxy.IntegrationTests.Keys;

namespace Proxy.IntegrationTests.Responses;

/// <summary>The bridged-responses table on each store (embedded SQLite, PostgreSQL): round trip, expiry and retention.</summary>
public abstract class ResponseStoreTests : IAsyncLifetime
{
    private SqlKeyStore _store = null!;

    private protected abstract Task<SqlKeyStore> CreateStoreAsync();

    public async Task InitializeAsync()
    {
        _store = await CreateStoreAsync();
        await _store.EnsureSchemaAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        switch (_store)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    [Fact]
    public async Task A_response_round_trips_and_is_gone_after_delete()
    {
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        var row = new StoredResponse("resp_a", "hash-o'brien", "claude", """{"id":"resp_x","object":"response"}""",
            """[{"id":"msg_1","type":"message","role":"user","content":"hi \"there\""}]""", """[{"id":"msg_1"},{"id":"msg_2"}]""", now, now + 60_000);
        IResponseStore store = _store;

        await store.SaveAsync(row, CancellationToken.None);

        Assert.Equal(row, await store.FindAsync("resp_a", CancellationToken.None));
        Assert.Null(await store.FindAsync("resp_b", CancellationToken.None));
        Assert.True(await store.DeleteAsync("resp_a", CancellationToken.None));
        Assert.False(await store.DeleteAsync("resp_a", CancellationToken.None));
        Assert.Null(await store.FindAsync("resp_a", CancellationToken.None));
    }

    [Fact]
    public async Task An_expired_response_is_never_served_and_retention_deletes_it_in_batches()
    {
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        IResponseStore store = _store;
        for (var i = 0; i < ResponseStoreRetention.BatchSize + 5; i++)
        {
            await store.SaveAsync(new StoredResponse("old-" + i, null, "g", "{}", "[]", "[]", now - 120_000, now - 60_000), CancellationToken.None);
        }

        await store.SaveAsync(new StoredResponse("fresh", null, "g", "{}", "[]", "[]", now, now + 600_000), CancellationToken.None);

        Assert.Null(await store.FindAsync("old-3", CancellationToken.None));
        Assert.False(await store.DeleteAsync("old-3", CancellationToken.None));
        var retention = new ResponseStoreRetention(_store, new AdminOptions { SqlitePath = "unused.db" }, TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ResponseStoreRetention>.Instance);

        Assert.Equal(ResponseStoreRetention.BatchSize + 5, await retention.RunPassAsync(CancellationToken.None));
        Assert.Equal(0, await retention.RunPassAsync(CancellationToken.None));
        Assert.NotNull(await store.FindAsync("fresh", CancellationToken.None));
    }
}

public sealed class SqliteResponseStoreTests : ResponseStoreTests, IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-resp-" + Guid.NewGuid().ToString("N"));

    private protected override Task<SqlKeyStore> CreateStoreAsync()
    {
        Directory.CreateDirectory(_folder);
        return Task.FromResult<SqlKeyStore>(new SqliteKeyStore(Path.Combine(_folder, "gateway.db"), TimeSpan.FromSeconds(5)));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}

public sealed class PostgresResponseStoreTests : ResponseStoreTests
{
    private protected override async Task<SqlKeyStore> CreateStoreAsync() =>
        new PostgresKeyStore((await PostgresDatabase.CreateAsync()).ConnectionString, TimeSpan.FromSeconds(5));
}
