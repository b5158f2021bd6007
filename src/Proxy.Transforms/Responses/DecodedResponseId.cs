namespace Proxy.Transforms.Responses;

/// <summary>
/// What a gateway-made response id names: the provider, the deployment that made the response, and the id it goes by
/// there. <see cref="GatewayStored"/>: the response was bridged to chat and the gateway keeps it itself (in its key
/// store), so <see cref="UpstreamId"/> is the gateway's own id and any deployment of the group can continue it.
/// </summary>
public readonly record struct DecodedResponseId(string Provider, string DeploymentId, string UpstreamId, bool GatewayStored = false);
