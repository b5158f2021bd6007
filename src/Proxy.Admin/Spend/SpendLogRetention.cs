using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Spend;

/// <summary>
/// LiteLLM's spend-log retention (general_settings.maximum_spend_logs_retention_period, run every
/// maximum_spend_logs_retention_interval, default a day): rows older than the period are deleted in the background in
/// batches of <see cref="BatchSize"/>, each its own short transaction with a pause after it, so the spend writer is never
/// held up for long; then the embedded store gives the freed space back. Replicas on one PostgreSQL leave a pass to
/// whichever took the advisory lock first. Failures are logged and retried at the next pass; nothing waits on them.
/// </summary>
internal sealed partial class SpendLogRetention(IKeyStore store, AdminOptions options, TimeProvider time, ILogger<SpendLogRetention> logger) : BackgroundService
{
    public const int BatchSize = 1000;

    // Between batches: the writer's transactions get their turn.
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(20);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.SpendLogRetention is not { } period)
        {
            return;
        }

        // The first pass soon after start (a gateway restarted daily would otherwise never clean up), then every interval.
        var wait = options.SpendLogRetentionInterval < TimeSpan.FromMinutes(1) ? options.SpendLogRetentionInterval : TimeSpan.FromMinutes(1);
        try
        {
            while (true)
            {
                await Task.Delay(wait, time, stoppingToken);
                await RunPassAsync(period, stoppingToken);
                wait = options.SpendLogRetentionInterval;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    /// <returns>How many rows this pass deleted.</returns>
    internal async Task<long> RunPassAsync(TimeSpan period, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow().Subtract(period).ToUnixTimeMilliseconds();
        long total = 0;
        try
        {
            while (true)
            {
                var deleted = await store.DeleteSpendLogsBeforeAsync(cutoff, BatchSize, cancellationToken);
                if (deleted < 0)
                {
                    Log.OtherReplica(logger);
                    return total;
                }

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
                Log.Deleted(logger, total, period.TotalDays);
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
        [LoggerMessage(4120, LogLevel.Information, "Spend-log retention deleted {Rows} rows older than {Days} days")]
        public static partial void Deleted(ILogger logger, long rows, double days);

        [LoggerMessage(4121, LogLevel.Warning, "Spend-log retention stopped after {Rows} rows ({Reason}); retrying at the next pass")]
        public static partial void Failed(ILogger logger, long rows, string reason);

        [LoggerMessage(4122, LogLevel.Debug, "Spend-log retention left to another replica this pass")]
        public static partial void OtherReplica(ILogger logger);
    }
}
