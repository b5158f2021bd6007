namespace Proxy.Host.Routing;

/// <summary>What happened the last time the config file was (re)loaded; shown by /health/readiness.</summary>
internal sealed record ReloadStatus(DateTimeOffset At, bool Succeeded, int ConfigVersion, IReadOnlyList<string> Errors, int Warnings);
