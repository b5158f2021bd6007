using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Proxy.Admin.Keys;
using StackExchange.Redis;

namespace Proxy.Admin.Budgets;

/// <summary>
/// Key rate limits shared by replicas through Redis, with no Redis call on the request path: each replica decides from
/// memory (its own counts plus the others' as of the last sync) and, every <see cref="SharedLimitsOptions.SyncInterval"/>,
/// publishes its own absolute counts for the keys it serves and reads the others'. Absolute values per replica (a hash
/// field each) make a lost or repeated sync harmless; a replica that stops reporting drops out of the in-flight sum
/// after <see cref="StaleAfter"/> and out of the minute counts when the minute is over. Overshoot is bounded by what the
/// replicas admit in one sync interval. Redis down: each replica enforces its own counts (as without Redis), logs
/// once, shows it in readiness, and shares again when Redis is back.
/// </summary>
internal sealed partial class RedisKeyLimitCounters(SharedLimitsOptions options, TimeProvider time, ILogger<RedisKeyLimitCounters> logger)
    : InMemoryKeyLimitCounters, IKeyLimitCounters, IHostedService, IReadinessContributor, IAsyncDisposable
{
    internal const string Prefix = "litellm-gateway:limits:";
    private static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan MinuteKeyLifetime = TimeSpan.FromSeconds(150);
    private static readonly TimeSpan IdleAfter = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(30);

    private readonly string _replica = Guid.NewGuid().ToString("N")[..16];
    // Keys with a limit that this replica served lately, with the time it last counted anything for them.
    private readonly ConcurrentDictionary<IRateLimited, long> _active = new(ReferenceEqualityComparer.Instance);
    private readonly CancellationTokenSource _stopping = new();
    private ConnectionMultiplexer? _redis;
    private Task? _loop;
    private long _lastSuccess;
    private long _lastWarning;

    public string Name => "key_limits_redis";

    public bool Connected => _redis?.IsConnected == true && time.GetElapsedTime(Volatile.Read(ref _lastSuccess)) < StaleAfter;

    public override LimitOutcome TryStart(IRateLimited key, DateTimeOffset now)
    {
        Track(key);
        return base.TryStart(key, now);
    }

    public void Track(IRateLimited key)
    {
        var settings = key;
        if (settings.RpmLimit is not null || settings.TpmLimit is not null || settings.MaxParallelRequests is not null)
        {
            _active[key] = time.GetTimestamp();
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public void WriteValue(Utf8JsonWriter json) => json.WriteStringValue(Connected ? "connected" : "Not connected");

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        _redis = await ConnectAsync();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.SyncInterval, time, cancellationToken);
                await SyncAsync(_redis.GetDatabase(options.Database));
                Volatile.Write(ref _lastSuccess, time.GetTimestamp());
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                Unreachable(ex.Message);
            }
        }
    }

    private Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(options.ToRedisConfiguration("litellm-gateway-limits"));

    /// <summary>One round: publish this replica's counts and read everybody's, in one pipelined batch.</summary>
    internal async Task SyncAsync(IDatabase database)
    {
        var nowTimestamp = time.GetTimestamp();
        var now = time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var minute = now.ToUnixTimeSeconds() / 60;
        var batch = database.CreateBatch();
        var pending = new List<(IRateLimited Key, Task<HashEntry[]> Minute, Task<HashEntry[]> InFlight)>(_active.Count);
        var writes = new List<Task>(_active.Count * 4);
        foreach (var (key, lastUsed) in _active)
        {
            var window = key.Window;
            long requests, tokens, inFlight;
            lock (window.Gate)
            {
                var current = window.Minute == minute;
                requests = current ? window.Requests : 0;
                tokens = current ? window.Tokens : 0;
                inFlight = window.InFlight;
            }

            var minuteKey = new RedisKey(Prefix + key.LimitId + ":" + minute.ToString(CultureInfo.InvariantCulture));
            var inFlightKey = new RedisKey(Prefix + key.LimitId + ":inflight");
            writes.Add(batch.HashSetAsync(minuteKey, [new HashEntry(_replica + ":r", requests), new HashEntry(_replica + ":t", tokens)]));
            writes.Add(batch.KeyExpireAsync(minuteKey, MinuteKeyLifetime));
            writes.Add(batch.HashSetAsync(inFlightKey, _replica, inFlight.ToString(CultureInfo.InvariantCulture) + ":" + nowMs.ToString(CultureInfo.InvariantCulture)));
            writes.Add(batch.KeyExpireAsync(inFlightKey, MinuteKeyLifetime));
            pending.Add((key, batch.HashGetAllAsync(minuteKey), batch.HashGetAllAsync(inFlightKey)));
            if (inFlight == 0 && time.GetElapsedTime(lastUsed, nowTimestamp) > IdleAfter)
            {
                // Published as idle one last time; forgotten until it is used again.
                _active.TryRemove(new KeyValuePair<IRateLimited, long>(key, lastUsed));
            }
        }

        if (pending.Count == 0)
        {
            return;
        }

        batch.Execute();
        await Task.WhenAll(writes);
        foreach (var (key, minuteTask, inFlightTask) in pending)
        {
            var (requests, tokens) = SumOthers(await minuteTask);
            var inFlight = SumOthersInFlight(await inFlightTask, nowMs);
            var window = key.Window;
            lock (window.Gate)
            {
                window.OthersMinute = minute;
                window.OthersRequests = requests;
                window.OthersTokens = tokens;
                window.OthersInFlight = inFlight;
            }
        }
    }

    private (long Requests, long Tokens) SumOthers(HashEntry[] fields)
    {
        long requests = 0, tokens = 0;
        foreach (var field in fields)
        {
            var name = field.Name.ToString();
            if (name.StartsWith(_replica, StringComparison.Ordinal) || !field.Value.TryParse(out long value))
            {
                continue;
            }

            if (name.EndsWith(":r", StringComparison.Ordinal))
            {
                requests += value;
            }
            else if (name.EndsWith(":t", StringComparison.Ordinal))
            {
                tokens += value;
            }
        }

        return (requests, tokens);
    }

    private long SumOthersInFlight(HashEntry[] fields, long nowMs)
    {
        long inFlight = 0;
        foreach (var field in fields)
        {
            if (field.Name == _replica)
            {
                continue;
            }

            // "count:reportedAtMs"; a replica that has not reported for a while is gone (crashed or scaled in).
            var text = field.Value.ToString();
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0
                && long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
                && long.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var at)
                && nowMs - at < StaleAfter.TotalMilliseconds)
            {
                inFlight += count;
            }
        }

        return inFlight;
    }

    private void Unreachable(string reason)
    {
        if (time.GetElapsedTime(Volatile.Read(ref _lastSuccess)) >= StaleAfter)
        {
            // The others' counts are too old to mean anything: each replica goes by its own.
            foreach (var key in _active.Keys)
            {
                var window = key.Window;
                lock (window.Gate)
                {
                    window.OthersRequests = 0;
                    window.OthersTokens = 0;
                    window.OthersInFlight = 0;
                }
            }
        }

        var nowTicks = time.GetTimestamp();
        var last = Interlocked.Read(ref _lastWarning);
        if (last == 0 || time.GetElapsedTime(last, nowTicks) >= WarningInterval)
        {
            Interlocked.Exchange(ref _lastWarning, nowTicks);
            Log.RedisUnavailable(logger, options.ToString(), reason);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4201, LogLevel.Warning, "Redis for shared key limits ({Endpoint}) not available; each replica enforces rpm/tpm/parallel limits on its own counts until it is back: {Reason}")]
        public static partial void RedisUnavailable(ILogger logger, string endpoint, string reason);
    }
}
