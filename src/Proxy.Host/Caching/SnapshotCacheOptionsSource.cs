using Proxy.Host.Routing;
using Proxy.Transforms.Caching;
using Proxy.Transforms.Caching.Semantic;

namespace Proxy.Host.Caching;

/// <summary>
/// The cache settings of the snapshot in force (exact or semantic; at most one is on), rebuilt only when a reload
/// brings a new snapshot, and kept as the same instance when the cache part of the config did not change (so stored
/// answers survive unrelated reloads).
/// </summary>
internal sealed partial class SnapshotCacheOptionsSource(GatewayState state, Func<string, string?> getEnv, ILogger<SnapshotCacheOptionsSource> logger)
    : ICacheOptionsSource, ISemanticCacheOptionsSource
{
    private readonly Lock _gate = new();
    private volatile Built? _built;

    public CacheOptions? Current => BuiltFor(state.Current).Options;

    public SemanticCacheOptions? SemanticCurrent => BuiltFor(state.Current).Semantic;

    private Built BuiltFor(GatewaySnapshot snapshot)
    {
        var built = _built;
        return ReferenceEquals(built?.Snapshot, snapshot) ? built : Rebuild(snapshot);
    }

    private Built Rebuild(GatewaySnapshot snapshot)
    {
        lock (_gate)
        {
            var previous = _built;
            if (ReferenceEquals(previous?.Snapshot, snapshot))
            {
                return previous;
            }

            var settings = snapshot.Config.LitellmSettings;
            var options = CacheOptionsFactory.Build(settings, getEnv, out var problem);
            var semantic = SemanticCacheOptionsFactory.Build(settings, getEnv, out var semanticProblem);
            foreach (var text in (ReadOnlySpan<string?>)[problem, semanticProblem])
            {
                if (text is not null)
                {
                    Log.CacheUnsupported(logger, text);
                }
            }

            var fingerprint = options is null ? null : CacheOptionsFactory.Fingerprint(options);
            if (previous is not null && fingerprint == previous.Fingerprint)
            {
                options = previous.Options;
            }

            var semanticFingerprint = semantic is null ? null : SemanticCacheOptionsFactory.Fingerprint(semantic);
            if (previous is not null && semanticFingerprint == previous.SemanticFingerprint)
            {
                semantic = previous.Semantic;
            }

            var built = new Built(snapshot, options, fingerprint, semantic, semanticFingerprint);
            _built = built;
            return built;
        }
    }

    private sealed record Built(GatewaySnapshot Snapshot, CacheOptions? Options, string? Fingerprint, SemanticCacheOptions? Semantic, string? SemanticFingerprint);

    private static partial class Log
    {
        [LoggerMessage(1301, LogLevel.Warning, "{Problem}")]
        public static partial void CacheUnsupported(ILogger logger, string problem);
    }
}
