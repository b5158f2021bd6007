using Proxy.Admin.Storage;

namespace Proxy.IntegrationTests.Keys;

/// <summary>The spend-log fast paths (SQLite's C API, PostgreSQL's unnest) against each store directly.</summary>
public abstract class SpendStoreTests : IAsyncLifetime
{
    private IKeyStore _store = null!;

    private protected abstract Task<IKeyStore> CreateStoreAsync();

    public async Task InitializeAsync()
    {
        _store = await CreateStoreAsync();
        await _store.EnsureSchemaAsync(CancellationToken.None);
        await _store.InsertKeyAsync(new KeyRow { Token = "tok-a", KeyName = "sk-...aaaa", CreatedAt = 1, UpdatedAt = 1 }, CancellationToken.None);
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
    public async Task Every_field_round_trips_including_nulls_and_quotes()
    {
        var full = Row("r-full", 1_000);
        full.KeyAlias = "o'brien \"team\"; DROP TABLE x; --";
        full.Model = "hosted_vllm/Qwen/Qwen3-8B";
        full.ModelId = "dep-1";
        full.ModelGroup = "qwen3-8b";
        full.ApiBase = "http://127.0.0.1:8000/v1";
        full.CacheHit = 1;
        full.Status = "failure";
        var sparse = Row("r-sparse", 2_000);
        await _store.WriteSpendAsync([full, sparse], [new KeySpendUpdate("tok-a", 0.75, false, null)], CancellationToken.None);

        var read = await _store.QuerySpendLogsAsync(new SpendLogQuery("tok-a", null, null, null, 10), CancellationToken.None);
        Assert.Equal(2, read.Count);
        Assert.Equivalent(full, read[0], strict: true);
        Assert.Equivalent(sparse, read[1], strict: true);
        Assert.Null(read[1].KeyAlias);
        Assert.Null(read[1].ApiBase);
        Assert.Equal(0.75, (await _store.FindKeyAsync("tok-a", CancellationToken.None))!.Spend);
    }

    [Fact]
    public async Task A_retried_batch_and_repeated_ids_are_stored_once_and_large_batches_land_whole()
    {
        var batch = Enumerable.Range(0, 2_500).Select(i => Row("id-" + i, 10_000 + i)).ToList();
        batch.Add(Row("id-7", 99_999));
        await _store.WriteSpendAsync(batch, [], CancellationToken.None);
        // The same rows again, as after a commit whose answer was lost.
        await _store.WriteSpendAsync(batch, [], CancellationToken.None);

        var read = await _store.QuerySpendLogsAsync(new SpendLogQuery(null, null, null, null, 10_000), CancellationToken.None);
        Assert.Equal(2_500, read.Count);
        Assert.Equal(2_500, read.Select(r => r.RequestId).Distinct().Count());
        Assert.Equal(10_007, read.Single(r => r.RequestId == "id-7").StartTime);
        Assert.Equal(batch.Take(2_500).Sum(r => r.Spend), await _store.TotalSpendAsync(CancellationToken.None), 9);
    }

    [Fact]
    public async Task A_budget_reset_applies_once_per_window_whichever_replica_writes_it_first()
    {
        await _store.WriteSpendAsync([], [new KeySpendUpdate("tok-a", 5, false, null)], CancellationToken.None);

        // Replica A enters the window ending at 2000: spend starts again from its delta.
        var first = await _store.WriteSpendAsync([], [new KeySpendUpdate("tok-a", 1, true, 2_000)], CancellationToken.None);
        Assert.Equal(1, Assert.Single(first).Spend);
        Assert.Equal(2_000, first[0].BudgetResetAt);

        // Replica B resets into the same window later: A's spend in it stays.
        var second = await _store.WriteSpendAsync([], [new KeySpendUpdate("tok-a", 0.5, true, 2_000)], CancellationToken.None);
        Assert.Equal(1.5, Assert.Single(second).Spend);

        // A plain delta from a replica still in the old window does not move the window back.
        var third = await _store.WriteSpendAsync([], [new KeySpendUpdate("tok-a", 0.25, false, null)], CancellationToken.None);
        Assert.Equal(1.75, Assert.Single(third).Spend);
        Assert.Equal(2_000, third[0].BudgetResetAt);

        // The next window resets again.
        var next = await _store.WriteSpendAsync([], [new KeySpendUpdate("tok-a", 2, true, 3_000)], CancellationToken.None);
        Assert.Equal(2, Assert.Single(next).Spend);
        Assert.Equal(3_000, (await _store.FindKeyAsync("tok-a", CancellationToken.None))!.BudgetResetAt);
    }

    [Fact]
    public async Task Retention_deletes_only_rows_older_than_the_period_in_batches()
    {
        // 2,500 old rows (three batches) and 10 recent ones, against a clock fixed at 1,000,000 ms.
        var old = Enumerable.Range(0, 2_500).Select(i => Row("old-" + i, 100_000 + i)).ToList();
        var recent = Enumerable.Range(0, 10).Select(i => Row("new-" + i, 950_000 + i)).ToList();
        await _store.WriteSpendAsync([.. old, .. recent], [], CancellationToken.None);
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_000_000));
        var retention = new Proxy.Admin.Spend.SpendLogRetention(_store, new Proxy.Admin.AdminOptions { SqlitePath = "unused" }, time,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Proxy.Admin.Spend.SpendLogRetention>.Instance);

        var pass = retention.RunPassAsync(TimeSpan.FromMilliseconds(100_000), CancellationToken.None);
        while (!pass.IsCompleted)
        {
            // The pause between batches runs on the fake clock.
            time.Advance(TimeSpan.FromMilliseconds(20));
            await Task.Delay(5);
        }

        Assert.Equal(2_500, await pass);
        var left = await _store.QuerySpendLogsAsync(new SpendLogQuery(null, null, null, null, 10_000), CancellationToken.None);
        Assert.Equal(recent.Select(r => r.RequestId), left.Select(r => r.RequestId));
    }

    private static SpendLogRow Row(string id, long start) => new()
    {
        RequestId = id,
        CallType = "acompletion",
        ApiKey = "tok-a",
        Spend = 0.015625 * (start % 7),
        PromptTokens = start % 100,
        CompletionTokens = 4,
        TotalTokens = (start % 100) + 4,
        StartTime = start,
        EndTime = start + 3,
        LatencyMs = 3.25,
    };
}

public sealed class SqliteSpendStoreTests : SpendStoreTests, IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-spend-" + Guid.NewGuid().ToString("N"));

    private string DatabasePath => Path.Combine(_folder, "gateway.db");

    private protected override Task<IKeyStore> CreateStoreAsync() =>
        Task.FromResult<IKeyStore>(new SqliteKeyStore(DatabasePath, TimeSpan.FromSeconds(5)));

    [Fact]
    public async Task Deleting_and_compacting_gives_the_space_back_to_the_file_system()
    {
        using var store = new SqliteKeyStore(Path.Combine(_folder, "shrink.db"), TimeSpan.FromSeconds(5));
        await store.EnsureSchemaAsync(CancellationToken.None);
        var rows = Enumerable.Range(0, 20_000).Select(i => new SpendLogRow
        {
            RequestId = "row-" + i, CallType = "acompletion", ApiKey = "tok", StartTime = i, EndTime = i, Model = new string('m', 200),
        }).ToList();
        await store.WriteSpendAsync(rows, [], CancellationToken.None);
        var full = new FileInfo(Path.Combine(_folder, "shrink.db")).Length;

        while (await store.DeleteSpendLogsBeforeAsync(long.MaxValue, 1000, CancellationToken.None) > 0)
        {
        }

        await store.CompactAsync(CancellationToken.None);
        store.Dispose();

        var compacted = new FileInfo(Path.Combine(_folder, "shrink.db")).Length;
        Assert.True(compacted < full / 4, $"{full} bytes before, {compacted} after");
    }

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

[Collection(PostgresCollection.Name)]
public sealed class PostgresSpendStoreTests : SpendStoreTests
{
    private protected override async Task<IKeyStore> CreateStoreAsync() =>
        new PostgresKeyStore((await PostgresDatabase.CreateAsync()).ConnectionString, TimeSpan.FromSeconds(5));
}
