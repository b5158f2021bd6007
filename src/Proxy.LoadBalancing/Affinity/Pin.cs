namespace Proxy.LoadBalancing.Affinity;

/// <summary>A session's (or key's) deployment, until it has been idle for the affinity TTL.</summary>
internal sealed class Pin(string deploymentId, long expiresAt)
{
    private long _expiresAt = expiresAt;

    public string DeploymentId { get; } = deploymentId;

    /// <summary>TimeProvider timestamp after which the pin is forgotten.</summary>
    public long ExpiresAt
    {
        get => Volatile.Read(ref _expiresAt);
        set => Volatile.Write(ref _expiresAt, value);
    }
}
