using Proxy.Host.Routing;
using Proxy.Transforms.Caching;

namespace Proxy.Host.Caching;

/// <summary>
/// The cache settings of the snapshot in force, rebuilt only when a reload brings a new snapshot, and kept as the same
/// instance when the cache part of the config did not change (so stored answers survive unrelated reloads).
/// </summary>
internal sealed partial class SnapshotCacheOptionsSource(GatewayState state, Func<string, string?> getEnv, ILogger<SnapshotCacheOptionsSource> logger)
    : ICacheOptionsSource
{
    private readonly Lock _gate = new();
    private volatile Built? _built;

    public CacheOptions? Current
    {
        get
        {
            var snapshot = state.Current;
            var built = _built;
            return ReferenceEquals(built?.Snapshot, snapshot) ? built.Options : Rebuild(snapshot);
        }
    }

    private CacheOptions? Rebuild(GatewaySnapshot snapshot)
    {
        lock (_gate)
        {
            var previous = _built;
            if (ReferenceEquals(previous?.Snapshot, snapshot))
            {
                return previous.Options;
            }

            var options = CacheOptionsFactory.Build(snapshot.Config.LitellmSettings, getEnv, out var problem);
            if (problem is not null)
            {
                Log.CacheUnsupported(logger, problem);
            }

            var fingerprint = options is null ? null : CacheOptionsFactory.Fingerprint(options);
            if (previous is not null && fingerprint == previous.Fingerprint)
            {
                options = previous.Options;
            }

            _built = new Built(snapshot, options, fingerprint);
            return options;
        }
    }

    private sealed record Built(GatewaySnapshot Snapshot, CacheOptions? Options, string? Fingerprint);

    private static partial class Log
    {
        [LoggerMessage(1301, LogLevel.Warning, "{Problem}")]
        public static partial void CacheUnsupported(ILogger logger, string problem);
    }
}
