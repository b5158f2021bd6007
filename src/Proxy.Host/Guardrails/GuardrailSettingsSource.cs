using Proxy.Host.Config.Watch;
using Proxy.Host.Routing;
using Proxy.Transforms.Guardrails;

namespace Proxy.Host.Guardrails;

/// <summary>
/// The guardrails of the config snapshot in force: rebuilt once per snapshot (on the first request after a reload),
/// then read with two reference compares.
/// </summary>
internal sealed partial class GuardrailSettingsSource(GatewayState state, ConfigSource config, ILogger<GuardrailSettingsSource> logger) : IGuardrailSettingsSource
{
    private sealed record Built(GatewaySnapshot Snapshot, GuardrailSettings Settings);

    private volatile Built? _built;

    public GuardrailSettings Current
    {
        get
        {
            var snapshot = state.Current;
            var built = _built;
            return built is not null && ReferenceEquals(built.Snapshot, snapshot) ? built.Settings : Rebuild(snapshot);
        }
    }

    private GuardrailSettings Rebuild(GatewaySnapshot snapshot)
    {
        var problems = new List<string>();
        var settings = GuardrailSettingsBuilder.Build(snapshot, config.GetEnv, problems);
        var previous = Interlocked.Exchange(ref _built, new Built(snapshot, settings));
        // Two requests may race to build the same snapshot; only the first reports.
        if (previous is null || !ReferenceEquals(previous.Snapshot, snapshot))
        {
            foreach (var problem in problems)
            {
                Log.Problem(logger, problem);
            }

            Log.Active(logger, settings.All.Count, snapshot.Version);
        }

        return settings;
    }

    private static partial class Log
    {
        [LoggerMessage(1301, LogLevel.Warning, "{Problem}")]
        public static partial void Problem(ILogger logger, string problem);

        [LoggerMessage(1302, LogLevel.Debug, "{Count} guardrail(s) active for config version {Version}")]
        public static partial void Active(ILogger logger, int count, int version);
    }
}
