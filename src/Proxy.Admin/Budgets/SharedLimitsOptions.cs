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

    /// <summary>
    /// A connection that never blocks or fails start-up: it connects in the background, keeps retrying, and fails
    /// commands at once while disconnected (callers fall back to what one replica knows).
    /// </summary>
    public StackExchange.Redis.ConfigurationOptions ToRedisConfiguration(string clientName) => new()
    {
        EndPoints = { { Host, Port } },
        User = User,
        Password = Password.IsEmpty ? null : Password.Value,
        Ssl = Ssl,
        DefaultDatabase = Database,
        AbortOnConnectFail = false,
        ConnectTimeout = 2000,
        SyncTimeout = 1000,
        AsyncTimeout = 1000,
        ReconnectRetryPolicy = new StackExchange.Redis.LinearRetry(500),
        BacklogPolicy = StackExchange.Redis.BacklogPolicy.FailFast,
        ClientName = clientName,
    };

    /// <summary>The password is never part of the text form (logs, readiness).</summary>
    public override string ToString() => $"{Host}:{Port}/{Database}";
}
