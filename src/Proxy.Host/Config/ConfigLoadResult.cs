namespace Proxy.Host.Config;

/// <summary>The outcome of loading a config: <see cref="Config"/> is null when any diagnostic is an error.</summary>
internal sealed record ConfigLoadResult(GatewayConfig? Config, IReadOnlyList<ConfigDiagnostic> Diagnostics, IReadOnlyList<string> PresentKeys)
{
    public bool Succeeded => Config is not null;
}
