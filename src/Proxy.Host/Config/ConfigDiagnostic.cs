namespace Proxy.Host.Config;

/// <summary>One finding about the config file; its text never contains a secret value.</summary>
internal sealed record ConfigDiagnostic(ConfigSeverity Severity, string File, int Line, string Path, string Message)
{
    public override string ToString() => $"{File}:{Line}: {Path}: {Message}";
}
