using Microsoft.Extensions.Logging.Abstractions;
using Proxy.Admin;
using Proxy.Admin.Budgets;
using Proxy.Admin.Keys;
using Proxy.Admin.Spend;
using Proxy.Admin.Storage;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Keys;

public sealed class SpendWriterTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-writer-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Full_batches_are_written_at_once_and_the_rest_waits_for_the_interval_or_shutdown()
    {
        var options = new AdminOptions { SqlitePath = Path.Combine(_folder, "gateway.db"), BatchWriteInterval = TimeSpan.FromHours(1) };
        using var store = new SqliteKeyStore(options.SqlitePath, TimeSpan.FromSeconds(5));
        await store.EnsureSchemaAsync(CancellationToken.None);
        var queue = new SpendQueue(options);
        using var writer = new SpendWriter(queue, store, new KeyCache(TimeProvider.System, options, new InMemoryKeyLimitCounters()), new Proxy.Admin.Tenants.TenantDirectory(options), options,
            TimeProvider.System, NullLogger<SpendWriter>.Instance);
        await writer.StartAsync(CancellationToken.None);

        for (var i = 0; i < 2_500; i++)
        {
            Assert.True(queue.TryEnqueue(new SpendLogRow { RequestId = "r" + i, CallType = "acompletion", ApiKey = "k", StartTime = i, EndTime = i }));
        }

        // Two full batches go well before the hour is up; the last 500 rows wait.
        Assert.True(await Eventually.TrueAsync(async () => await CountAsync(store) == 2_000, TimeSpan.FromSeconds(10)), "full batches should be written at once");
        await Task.Delay(300);
        Assert.Equal(2_000, await CountAsync(store));
        Assert.Equal(500, queue.Depth);

        await writer.StoppedAsync(CancellationToken.None);
        Assert.Equal(2_500, await CountAsync(store));
        Assert.Equal(0, queue.Depth);
    }

    private static async Task<int> CountAsync(IKeyStore store) =>
        (await store.QuerySpendLogsAsync(new SpendLogQuery(null, null, null, null, 10_000), CancellationToken.None)).Count;

    public void Dispose()
    {
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
