namespace Proxy.Host.Config;

/// <summary>How far the gateway acts on a config key.</summary>
internal enum SupportLevel
{
    Honoured,
    ParsedNotActedOn,
    Ignored,
    Unknown,
}
