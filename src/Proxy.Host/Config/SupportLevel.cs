namespace Proxy.Host.Config;

/// <summary>How far the gateway acts on a config key.</summary>
internal enum SupportLevel
{
    Honoured,

    /// <summary>Not a LiteLLM key: the gateway's own, acted on.</summary>
    Extension,
    ParsedNotActedOn,
    Ignored,
    Unknown,
}
