namespace Proxy.Host.Hosting;

/// <summary>The config given at start-up cannot be served; the message lists every reason.</summary>
internal sealed class GatewayStartupException(IReadOnlyList<string> errors)
    : Exception("The config cannot be loaded:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e)))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
