using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Keys;

/// <summary>
/// Re-reads the cached keys every 30 s, so that a key updated, blocked or deleted through another replica takes
/// effect here too. The live spend and counters of a key stay as they are; only its settings are replaced.
/// </summary>
internal sealed partial class KeyRefresher(KeyCache cache, IKeyStore store, TimeProvider time, ILogger<KeyRefresher> logger) : BackgroundService
{
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, time, stoppingToken);
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
            var row = await store.FindKeyAsync(entry.Token, cancellationToken);
            if (row is null)
            {
                cache.Remove(entry.Token);
            }
            else if (row.UpdatedAt != entry.Settings.Row.UpdatedAt)
            {
                cache.Put(KeySettings.From(row));
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4003, LogLevel.Warning, "Could not refresh the cached keys; they keep serving: {Reason}")]
        public static partial void RefreshFailed(ILogger logger, string reason);
    }
}
