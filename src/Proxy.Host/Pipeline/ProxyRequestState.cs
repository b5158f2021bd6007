using Proxy.Host.Routing;
using Proxy.LoadBalancing.Eligibility;
using Proxy.Transforms.Body;
using Proxy.Transforms.Multipart;
using Yarp.ReverseProxy.Model;

namespace Proxy.Host.Pipeline;

/// <summary>The buffered body and what the one scan of it found, handed from routing to forwarding.</summary>
internal sealed class ProxyRequestState
{
    public required GatewaySnapshot Snapshot { get; init; }

    public required ModelGroup Group { get; init; }

    public required PooledBuffer Body { get; init; }

    public RequestScan Scan;

    /// <summary>A multipart body (audio upload), spooled; null for JSON bodies, which are in <see cref="Body"/>.</summary>
    public MultipartBody? Multipart { get; init; }

    /// <summary>What the stars of a wildcard group matched in the requested model; null for a group found by name.</summary>
    public string[]? WildcardSegments { get; init; }

    /// <summary>The request's tags when tag filtering is on; null otherwise.</summary>
    public TagQuery? Tags { get; init; }

    /// <summary>
    /// For a client of another protocol (Anthropic Messages): its own body and scan, sent as they are (model rewritten)
    /// to a deployment that speaks the protocol natively. <see cref="Body"/> is then the translated chat body. Null for
    /// every other request, which then does not carry a second scan.
    /// </summary>
    public TranslatedClientBody? Client { get; init; }

    /// <summary>
    /// The body's mock_response and mock_testing_* fields may be honoured: the master key (or an open gateway) sent them,
    /// or general_settings.allow_client_mock_response lets every key; never with disable_mock_testing_flags.
    /// </summary>
    public required bool ClientMayMock { get; init; }

    /// <summary>LiteLLM's mock_testing_* flags in force for the current attempt (only the requested group's; fallbacks run clean).</summary>
    public MockFlags ActiveMockFlags { get; set; }

    /// <summary>
    /// The one deployment that may serve this request: the one that stores the response it continues or addresses
    /// (Responses API). No other deployment and no fallback can answer it.
    /// </summary>
    public string? PinnedDeploymentId { get; init; }

    /// <summary>The upstream's own id for the client's previous_response_id, spliced into the body for the pinned deployment.</summary>
    public string? UpstreamPreviousResponseId { get; init; }

    /// <summary>The router's scratch list of eligible deployments, reused across this request's attempts.</summary>
    public List<DestinationState>? Eligible;

    /// <summary>Deployments of the current group this request has called; reset when it falls back to another group.</summary>
    public List<DestinationState>? Tried;
}
