using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Responses;

/// <summary>
/// Deletes the bridged Responses API responses whose general_settings.responses_store_ttl ran out, in the background,
/// in batches of <see cref="BatchSize"/> with a pause after each (as <see cref="Spend.SpendLogRetention"/>), so the
/// store's writers are never held up for long. Reads never serve an expired row whatever this has done; this only
/// bounds the table. Replicas may run passes at once: deleting an expired row twice is harmless.
/// </summary>
internal sealed partial class ResponseStoreRetention(SqlKeyStore store, AdminOptions options, TimeProvider time, ILogger<ResponseStoreRetention> logger)
    : BackgroundService
{
    public const int BatchSize = 1000;

    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(20);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Responses expire continuously: a pass an hour keeps the table within an hour's worth of its bound.
        var interval = options.ResponsesStoreTtl < TimeSpan.FromHours(1) ? options.ResponsesStoreTtl : TimeSpan.FromHours(1);
        var wait = interval < TimeSpan.FromMinutes(1) ? interval : TimeSpan.FromMinutes(1);
        try
        {
            while (true)
            {
                await Task.Delay(wait, time, stoppingToken);
                await RunPassAsync(stoppingToken);
                wait = interval;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    /// <returns>How many responses this pass deleted.</returns>
    internal async Task<long> RunPassAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        long total = 0;
        try
        {
            while (true)
            {
                var deleted = await store.DeleteExpiredResponsesAsync(now, BatchSize, cancellationToken);
                total += deleted;
                if (deleted < BatchSize)
                {
                    break;
                }

                await Task.Delay(Pause, time, cancellationToken);
            }

            if (total > 0)
            {
                await store.CompactAsync(cancellationToken);
                Log.Deleted(logger, total);
            }
        }
        catch (StoreUnavailableException ex)
        {
            Log.Failed(logger, total, ex.Message);
        }

        return total;
    }

    private static partial class Log
    {
        [LoggerMessage(4130, LogLevel.Information, "Responses store retention deleted {Rows} expired responses")]
        public static partial void Deleted(ILogger logger, long rows);

        [LoggerMessage(4131, LogLevel.Warning, "Responses store retention stopped after {Rows} rows ({Reason}); retrying at the next pass")]
        public static partial void Failed(ILogger logger, long rows, string reason);
    }
}
