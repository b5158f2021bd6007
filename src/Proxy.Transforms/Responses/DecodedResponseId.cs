namespace Proxy.Transforms.Responses;

/// <summary>What a gateway-made response id names: the provider, the deployment that stores the response, and the id that deployment gave it.</summary>
public readonly record struct DecodedResponseId(string Provider, string DeploymentId, string UpstreamId);
