using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Keys;

/// <summary>
/// Re-reads the cached keys every general_settings.user_api_key_cache_ttl (30 s by default), so that a key updated,
/// blocked or deleted through another replica takes effect here too, and the spend other replicas wrote counts
/// against its budget here. Counters stay as they are; spend written by this replica is never lost or doubled
/// (see <see cref="KeyEntry.SyncFromStore"/>).
/// </summary>
internal sealed partial class KeyRefresher(KeyCache cache, IKeyStore store, AdminOptions options, TimeProvider time, ILogger<KeyRefresher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.KeyRefreshInterval, time, stoppingToken);
                await RefreshAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (StoreUnavailableException ex)
            {
                // The cached keys keep serving until the database is back.
                Log.RefreshFailed(logger, ex.Message);
            }
        }
    }

    internal async Task RefreshAsync(CancellationToken cancellationToken)
    {
        foreach (var entry in cache.Entries)
        {
            var version = entry.SpendVersion;
            var row = await store.FindKeyAsync(entry.Token, cancellationToken);
            if (row is null)
            {
                cache.Remove(entry.Token);
                continue;
            }

            if (row.UpdatedAt != entry.Settings.Row.UpdatedAt)
            {
                cache.Put(KeySettings.From(row));
            }

            entry.SyncFromStore(row.Spend, row.BudgetResetAt, version);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4003, LogLevel.Warning, "Could not refresh the cached keys; they keep serving: {Reason}")]
        public static partial void RefreshFailed(ILogger logger, string reason);
    }
}
