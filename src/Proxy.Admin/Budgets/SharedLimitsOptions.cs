namespace Proxy.Admin.Budgets;

/// <summary>
/// Where replicas share key rate-limit counts: router_settings.redis_* (LiteLLM's shared router state), else the
/// response cache's Redis. Null options = limits per process.
/// </summary>
public sealed record SharedLimitsOptions
{
    public required string Host { get; init; }

    public int Port { get; init; } = 6379;

    public string? User { get; init; }

    public Secret Password { get; init; }

    public bool Ssl { get; init; }

    public int Database { get; init; }

    /// <summary>How often this replica publishes its counts and reads the others'.</summary>
    public TimeSpan SyncInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The password is never part of the text form (logs, readiness).</summary>
    public override string ToString() => $"{Host}:{Port}/{Database}";
}
