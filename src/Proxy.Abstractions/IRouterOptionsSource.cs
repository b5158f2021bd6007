namespace Proxy.Abstractions;

/// <summary>The router settings of the configuration in force.</summary>
public interface IRouterOptionsSource
{
    RouterOptions RouterOptions { get; }
}
