namespace Proxy.Host.Pipeline;

/// <summary>The deployment a Responses API request must go to, and the upstream's id of the response it continues.</summary>
internal readonly record struct ResponsePin(string? DeploymentId, string? UpstreamId);
