using Proxy.Host.Routing;
using Proxy.Transforms.Body;

namespace Proxy.Host.Pipeline;

/// <summary>The buffered body and what the one scan of it found, handed from routing to forwarding.</summary>
internal sealed class ProxyRequestState
{
    public required GatewaySnapshot Snapshot { get; init; }

    public required ModelGroup Group { get; init; }

    public required PooledBuffer Body { get; init; }

    public RequestScan Scan;

    /// <summary>
    /// For a client of another protocol (Anthropic Messages): its own body and scan, sent as they are (model rewritten)
    /// to a deployment that speaks the protocol natively. <see cref="Body"/> is then the translated chat body.
    /// </summary>
    public PooledBuffer ClientBody { get; init; }

    public RequestScan ClientScan;

    /// <summary>LiteLLM's mock_testing_* flags in force for the current attempt (only the requested group's; fallbacks run clean).</summary>
    public MockFlags ActiveMockFlags { get; set; }
}
