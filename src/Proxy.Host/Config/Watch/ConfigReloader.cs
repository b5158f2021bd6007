using Proxy.Abstractions;
using Proxy.Host.Routing;

namespace Proxy.Host.Config.Watch;

/// <summary>
/// Loads the config file and, when it is valid, swaps in a new snapshot. An invalid file leaves the old snapshot
/// serving, is logged with every reason, and is shown by /health/readiness.
/// </summary>
internal sealed partial class ConfigReloader(
    GatewayState state, ConfigSource source, TimeProvider time, ILogger<ConfigReloader> logger, Observability.GatewayMetrics? metrics = null)
{
    private readonly Lock _gate = new();
    private int _lastVersion = state.Current.Version;

    public ReloadStatus Reload()
    {
        // Two triggers (watcher and poll) may race; a reload is cheap, so they simply take turns.
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var outcome = source.Load(_lastVersion + 1, now, state.Current);
            foreach (var diagnostic in outcome.Diagnostics)
            {
                if (diagnostic.Severity == ConfigSeverity.Warning)
                {
                    Log.ConfigWarning(logger, diagnostic.ToString());
                }
            }

            if (outcome.Snapshot is null)
            {
                var failed = new ReloadStatus(now, false, state.Current.Version, outcome.Errors, outcome.WarningCount);
                foreach (var error in outcome.Errors)
                {
                    Log.ReloadRejected(logger, error);
                }

                state.RecordFailedReload(failed);
                metrics?.ConfigReloaded(false, state.Current.Version);
                return failed;
            }

            _lastVersion = outcome.Snapshot.Version;
            var status = new ReloadStatus(now, true, outcome.Snapshot.Version, [], outcome.WarningCount);
            state.Publish(outcome.Snapshot, status);
            metrics?.ConfigReloaded(true, outcome.Snapshot.Version);
            Log.Reloaded(logger, outcome.Snapshot.Version, outcome.Snapshot.VisibleGroupNames.Count, outcome.Snapshot.Deployments.Count);
            return status;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1101, LogLevel.Information, "Config reloaded: version {Version}, {Groups} model groups, {Deployments} deployments")]
        public static partial void Reloaded(ILogger logger, int version, int groups, int deployments);

        [LoggerMessage(1102, LogLevel.Error, "Config reload rejected, the previous config keeps serving: {Error}")]
        public static partial void ReloadRejected(ILogger logger, string error);

        [LoggerMessage(1103, LogLevel.Warning, "Config: {Warning}")]
        public static partial void ConfigWarning(ILogger logger, string warning);
    }
}
