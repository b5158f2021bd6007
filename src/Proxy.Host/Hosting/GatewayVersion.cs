using System.Reflection;

namespace Proxy.Host.Hosting;

internal static class GatewayVersion
{
    public static string Value { get; } =
        typeof(GatewayVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.1.0";
}
