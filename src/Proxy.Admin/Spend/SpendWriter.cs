using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Proxy.Admin.Keys;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Spend;

/// <summary>
/// Writes buffered spend in batches (LiteLLM's proxy_batch_write_at): spend-log rows and key spend in one
/// transaction. A batch that fails (database down) is kept and retried; rows keep queueing behind it up to the
/// buffer's capacity. It stops only after the web server has drained its requests (IHostedLifecycleService.StoppedAsync),
/// so a clean shutdown writes everything.
/// </summary>
internal sealed partial class SpendWriter(SpendQueue queue, ITenantStore store, KeyCache keys, Tenants.TenantDirectory tenants, AdminOptions options, TimeProvider time,
    ILogger<SpendWriter> logger)
    : IHostedLifecycleService, IDisposable
{
    // Small enough that one transaction is a few milliseconds of work, even on SQLite.
    private const int MaxBatch = 1000;
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan FinalFlushTimeout = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _stopping = new();
    private readonly DedicatedThreadScheduler _scheduler = new("spend-writer");
    private readonly List<SpendLogRow> _rows = [];
    private readonly List<KeySpendUpdate> _updates = [];
    private readonly List<TenantSpendUpdate> _tenantUpdates = [];
    private Task? _loop;
    private bool _failing;
    private bool _reportedFull;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // On its own thread: SQLite writes synchronously inside its async API (see DedicatedThreadScheduler).
        _loop = Task.Factory.StartNew(() => RunAsync(_stopping.Token), _stopping.Token, TaskCreationOptions.DenyChildAttach, _scheduler).Unwrap();
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        using var timeout = new CancellationTokenSource(FinalFlushTimeout, time);
        try
        {
            // Everything queued, batch after batch; a database that is down gets no second chance at shutdown.
            while (await FlushOnceAsync(timeout.Token) && queue.Reader.Count > 0)
            {
            }
        }
        catch (OperationCanceledException)
        {
            // Out of time: what is left is logged below.
        }

        if (queue.Depth > 0)
        {
            Log.LostAtShutdown(logger, queue.Depth);
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        // proxy_batch_write_at is the longest a row waits; a full batch goes at once (as LiteLLM flushes a full queue),
        // so under load rows live for a fraction of a second and die young instead of piling up in the old generation.
        var interval = options.BatchWriteInterval;
        var tick = interval < CheckInterval ? interval : CheckInterval;
        var last = time.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(tick, time, cancellationToken);
                var due = time.GetElapsedTime(last) >= interval;
                // While the database is failing, only the interval retries it.
                if (!due && (_failing || queue.Reader.Count < MaxBatch))
                {
                    continue;
                }

                last = time.GetTimestamp();
                while (await FlushOnceAsync(cancellationToken) && queue.Reader.Count >= MaxBatch)
                {
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.WriterFailed(logger, ex);
            }
        }
    }

    /// <summary>Writes one batch; true when it was written (or there was nothing to write).</summary>
    internal async Task<bool> FlushOnceAsync(CancellationToken cancellationToken)
    {
        while (_rows.Count < MaxBatch && queue.Reader.TryRead(out var row))
        {
            _rows.Add(row);
        }

        while (queue.TryTakeDirty(out var key))
        {
            if (key.TakePending() is { } update)
            {
                _updates.Add(update);
            }
        }

        while (queue.TryTakeDirtyTenant(out var tenant))
        {
            if (tenant.TakePending() is { } update)
            {
                _tenantUpdates.Add(update);
            }
        }

        queue.SetRetained(_rows.Count);
        ReportFullness();
        if (_rows.Count == 0 && _updates.Count == 0 && _tenantUpdates.Count == 0)
        {
            return true;
        }

        SpendBatchResult states;
        try
        {
            states = await store.WriteBatchAsync(_rows, _updates, _tenantUpdates, cancellationToken);
        }
        catch (StoreUnavailableException ex)
        {
            if (!_failing)
            {
                _failing = true;
                Log.DatabaseDown(logger, _rows.Count, queue.Depth, ex.Message);
            }

            return false;
        }

        if (_failing)
        {
            _failing = false;
            Log.DatabaseBack(logger, _rows.Count);
        }

        // The store's totals include other replicas' spend: budgets then hold across replicas within a batch interval.
        foreach (var state in states.Keys)
        {
            if (keys.TryGet(state.Token, out var entry))
            {
                entry.Committed(state.Spend, state.BudgetResetAt);
            }
        }

        foreach (var (update, state) in states.Tenants)
        {
            tenants.Find(update.Kind, update.Id, update.TeamId)?.Spend.Committed(state.Spend, state.BudgetResetAt);
        }

        _rows.Clear();
        _updates.Clear();
        _tenantUpdates.Clear();
        queue.SetRetained(0);
        return true;
    }

    private void ReportFullness()
    {
        var full = queue.IsFull;
        if (full && !_reportedFull)
        {
            Log.BufferFull(logger, queue.Capacity);
        }

        _reportedFull = full;
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _scheduler.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(4101, LogLevel.Warning, "Spend database not available, keeping {Rows} spend-log rows in memory ({Depth} buffered) and retrying: {Reason}")]
        public static partial void DatabaseDown(ILogger logger, int rows, int depth, string reason);

        [LoggerMessage(4102, LogLevel.Information, "Spend database back; wrote the {Rows} buffered spend-log rows")]
        public static partial void DatabaseBack(ILogger logger, int rows);

        [LoggerMessage(4103, LogLevel.Error, "Spend buffer full ({Capacity} rows): new spend-log rows are dropped until the database is back")]
        public static partial void BufferFull(ILogger logger, int capacity);

        [LoggerMessage(4104, LogLevel.Error, "Spend writer failed; retrying on the next tick")]
        public static partial void WriterFailed(ILogger logger, Exception exception);

        [LoggerMessage(4105, LogLevel.Error, "Shut down with {Rows} spend-log rows not written (database not available)")]
        public static partial void LostAtShutdown(ILogger logger, int rows);
    }
}
