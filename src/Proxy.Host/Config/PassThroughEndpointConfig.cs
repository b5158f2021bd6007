using Proxy.Abstractions;

namespace Proxy.Host.Config;

/// <summary>One <c>general_settings.pass_through_endpoints</c> entry (LiteLLM's names): a route forwarded to a fixed target.</summary>
internal sealed record PassThroughEndpointConfig
{
    /// <summary>0-based position in the list, for diagnostics and route ids.</summary>
    public int Index { get; init; }

    /// <summary>The gateway path, e.g. <c>/v1/rerank-cohere</c>; starts with '/', no trailing slash.</summary>
    public required string Path { get; init; }

    /// <summary>The absolute http(s) URL requests are forwarded to.</summary>
    public required string Target { get; init; }

    /// <summary>Headers set on every forwarded request (values may use os.environ/NAME, also after a prefix as in "Bearer os.environ/KEY").</summary>
    public IReadOnlyList<KeyValuePair<string, Secret>> Headers { get; init; } = [];

    /// <summary>Also forward the client's own headers (never its gateway credentials, cookies or hop-by-hop headers).</summary>
    public bool ForwardHeaders { get; init; }

    /// <summary>Also serve <c>{path}/...</c>, appending the sub-path to the target.</summary>
    public bool IncludeSubpath { get; init; }

    /// <summary>HTTP methods served; null means all.</summary>
    public IReadOnlyList<string>? Methods { get; init; }

    /// <summary>Require a virtual key or the master key (LiteLLM: Enterprise; here free). Off by default, as in LiteLLM.</summary>
    public bool Auth { get; init; }

    public int Line { get; init; }
}
