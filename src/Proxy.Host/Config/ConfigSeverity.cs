namespace Proxy.Host.Config;

internal enum ConfigSeverity
{
    Info,
    Warning,
    Error,
}
