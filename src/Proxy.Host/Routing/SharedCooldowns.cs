using System.Globalization;
using Microsoft.Extensions.Hosting;
using Proxy.Abstractions;
using Proxy.Admin.Budgets;
using StackExchange.Redis;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Proxy.Host.Routing;

/// <summary>
/// Cooldowns shared by replicas through Redis (router_settings.redis_*, as LiteLLM shares them): a deployment one replica
/// takes out is taken out by all. Each cooldown is published on a channel (period, not end time, so clocks need not
/// agree) and kept as a key that expires with it, which a replica reads when it connects or reconnects. Redis down:
/// each replica cools down on its own failures, as without Redis.
/// </summary>
internal sealed partial class SharedCooldowns(
    SharedLimitsOptions options, IServiceProvider services, IDestinationHealthUpdater healthUpdater, ILogger<SharedCooldowns> logger)
    : ICooldownBroadcaster, IHostedService, IReadinessContributor, IAsyncDisposable
{
    internal const string KeyPrefix = "litellm-gateway:cooldown:";
    private static readonly RedisChannel Channel = RedisChannel.Literal("litellm-gateway:cooldowns");

    private readonly string _replica = Guid.NewGuid().ToString("N")[..16];
    private ConnectionMultiplexer? _redis;
    // Resolved on first use: YARP's config manager needs the cooldown policy, which needs this broadcaster.
    private IProxyStateLookup? _proxyState;
    private bool _subscribed;

    public string Name => "router_redis";

    public void WriteValue(System.Text.Json.Utf8JsonWriter json) =>
        json.WriteStringValue(_redis is { IsConnected: true } && Volatile.Read(ref _subscribed) ? "connected" : "Not connected");

    public void CooledDown(Deployment deployment, TimeSpan period)
    {
        if (_redis is not { IsConnected: true } redis)
        {
            return;
        }

        var milliseconds = (long)period.TotalMilliseconds;
        var message = string.Create(CultureInfo.InvariantCulture, $"{_replica}|{milliseconds}|{deployment.Id}");
        try
        {
            // Fire and forget: the request that caused the cooldown never waits on Redis.
            redis.GetDatabase(options.Database).StringSet(KeyPrefix + deployment.Id, milliseconds, period, flags: CommandFlags.FireAndForget);
            redis.GetSubscriber().Publish(Channel, message, CommandFlags.FireAndForget);
        }
        catch (RedisException ex)
        {
            Log.PublishFailed(logger, deployment.Id, ex.Message);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Never block or fail start-up on Redis: connect in the background; it keeps retrying by itself.
        _ = Task.Run(ConnectAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task ConnectAsync()
    {
        var redis = await ConnectionMultiplexer.ConnectAsync(options.ToRedisConfiguration("litellm-gateway-cooldowns"));
        _redis = redis;
        redis.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Subscription)
            {
                _ = SubscribeAndCatchUpAsync();
            }
        };
        await SubscribeAndCatchUpAsync();
    }

    private async Task SubscribeAndCatchUpAsync()
    {
        try
        {
            var subscriber = _redis!.GetSubscriber();
            await subscriber.UnsubscribeAsync(Channel);
            await subscriber.SubscribeAsync(Channel, (_, value) => OnMessage(value));
            Volatile.Write(ref _subscribed, true);
        }
        catch (RedisException ex)
        {
            // Not connected yet: the restored connection subscribes.
            Log.CatchUpFailed(logger, ex.Message);
            return;
        }

        await CatchUpAsync();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void OnMessage(RedisValue value)
    {
        var parts = value.ToString().Split('|', 3);
        if (parts.Length == 3 && parts[0] != _replica
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds))
        {
            Apply(parts[2], TimeSpan.FromMilliseconds(milliseconds));
        }
    }

    /// <summary>Cooldowns under way when this replica (re)connects, each for the time its key has left.</summary>
    private async Task CatchUpAsync()
    {
        try
        {
            var redis = _redis!;
            var database = redis.GetDatabase(options.Database);
            foreach (var endpoint in redis.GetEndPoints())
            {
                var server = redis.GetServer(endpoint);
                if (!server.IsConnected || server.IsReplica)
                {
                    continue;
                }

                await foreach (var key in server.KeysAsync(options.Database, KeyPrefix + "*", pageSize: 250))
                {
                    if (await database.KeyTimeToLiveAsync(key) is { } left && left > TimeSpan.Zero)
                    {
                        Apply(key.ToString()[KeyPrefix.Length..], left);
                    }
                }
            }
        }
        catch (RedisException ex)
        {
            Log.CatchUpFailed(logger, ex.Message);
        }
    }

    private void Apply(string deploymentId, TimeSpan period)
    {
        _proxyState ??= services.GetRequiredService<IProxyStateLookup>();
        foreach (var cluster in _proxyState.GetClusters())
        {
            foreach (var destination in cluster.Destinations.Values)
            {
                if (destination.Model.Config.Metadata is DeploymentMetadata metadata && metadata.Deployment.Id == deploymentId)
                {
                    healthUpdater.SetPassive(cluster, destination, DestinationHealth.Unhealthy, period);
                    Log.CoolingDownFromPeer(logger, deploymentId, metadata.Deployment.ModelGroup, period.TotalSeconds);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(3201, LogLevel.Warning, "Deployment {DeploymentId} of {ModelGroup} cooling down for {Seconds:0.#}s: another replica took it out")]
        public static partial void CoolingDownFromPeer(ILogger logger, string deploymentId, string modelGroup, double seconds);

        [LoggerMessage(3202, LogLevel.Warning, "Could not tell other replicas that deployment {DeploymentId} is cooling down: {Reason}")]
        public static partial void PublishFailed(ILogger logger, string deploymentId, string reason);

        [LoggerMessage(3203, LogLevel.Warning, "Could not read the cooldowns other replicas started: {Reason}")]
        public static partial void CatchUpFailed(ILogger logger, string reason);
    }
}
