using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Proxy.Transforms.Caching.Semantic.Index;
using StackExchange.Redis;

namespace Proxy.Transforms.Caching.Semantic;

/// <summary>
/// <c>redis-semantic</c>. Every entry is one hash, <c>{index}:{entry id}</c> with <c>prompt</c>, <c>response</c> (the
/// <see cref="CacheEntry"/>), <c>prompt_vector</c> (float32, little-endian), <c>litellm_cache_key</c> (the scope) and
/// <c>inserted_at</c>, expiring with its ttl. Where the server has vector search (detected at connect with
/// <c>FT._LIST</c>) it searches with <c>FT.SEARCH … KNN</c>. On plain Redis (Debian's 7, the tests') each replica keeps
/// an in-process <see cref="SemanticIndex"/> of the vectors: built by scanning the hashes when it connects or
/// reconnects, and kept in step by a pub/sub channel on which every store, delete and flush is announced.
/// </summary>
internal sealed partial class RedisSemanticStore : ISemanticCacheStore
{
    internal const string PromptField = "prompt";
    internal const string ResponseField = "response";
    internal const string VectorField = "prompt_vector";
    internal const string ScopeField = "litellm_cache_key";
    internal const string InsertedAtField = "inserted_at";

    private const byte UpsertMessage = (byte)'u';
    private const byte DeleteMessage = (byte)'d';
    private const byte FlushMessage = (byte)'f';
    private const int ReplicaIdLength = 16;
    private const int EntryIdLength = 32;
    private const int ScopeLength = 64;
    private const int ScanBatch = 256;
    private static readonly TimeSpan AdminTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CatchUpRetry = TimeSpan.FromSeconds(1);
    private static readonly RedisValue[] IndexFields = [ScopeField, VectorField];

    private readonly SemanticCacheOptions _options;
    private readonly SemanticIndex _index;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RedisChannel _channel;
    private readonly byte[] _replica = Guid.NewGuid().ToByteArray();
    private readonly CancellationTokenSource _disposed = new();
    private readonly Task _connecting;
    private volatile ConnectionMultiplexer? _multiplexer;
    private volatile bool _vectorSearch;
    private volatile bool _synchronised;
    private volatile bool _detected;
    private int _indexedDimensions;
    private Task _catchUp = Task.CompletedTask;
    private int _catchingUp;

    public RedisSemanticStore(SemanticCacheOptions options, SemanticIndex index, TimeProvider time, ILogger logger)
    {
        _options = options;
        _index = index;
        _time = time;
        _logger = logger;
        _channel = RedisChannel.Literal(options.IndexName + ":events");
        _connecting = ConnectAsync();
    }

    public bool IsAvailable => _multiplexer is { IsConnected: true };

    public Task Started => _connecting;

    public long Entries => _vectorSearch ? -1 : _index.Count;

    /// <summary>The server searches vectors itself (FT.SEARCH); false: this replica's index does.</summary>
    public bool ServerVectorSearch => _vectorSearch;

    /// <summary>The last subscribe-and-rebuild (tests wait for it after a reconnect).</summary>
    internal Task CatchUp => Volatile.Read(ref _catchUp);

    public async ValueTask<ReadOnlyMemory<byte>?> GetExactAsync(string entryId, CancellationToken cancellationToken)
    {
        // Only the in-process index can tell without a round trip that the entry exists.
        if (_vectorSearch || !_index.Contains(entryId))
        {
            return null;
        }

        return await ReadResponseAsync(entryId, cancellationToken);
    }

    public async ValueTask<SemanticMatch?> SearchAsync(string scope, float[] vector, double threshold, CancellationToken cancellationToken)
    {
        if (_vectorSearch)
        {
            return await SearchServerAsync(scope, vector, threshold, cancellationToken);
        }

        if (_index.Search(scope, vector) is not { } match)
        {
            return null;
        }

        if (match.Similarity < threshold)
        {
            return new SemanticMatch(match.EntryId, match.Similarity, null);
        }

        var entry = await ReadResponseAsync(match.EntryId, cancellationToken);
        return new SemanticMatch(match.EntryId, match.Similarity, entry);
    }

    public void Store(SemanticEntry entry)
    {
        var database = Database();
        var key = _options.EntryKey(entry.EntryId);
        var vector = SemanticVectors.ToBytes(entry.Vector);
        if (_vectorSearch)
        {
            EnsureServerIndex(database, entry.Vector.Length);
        }

        // Fire and forget: the answer has been sent. One MULTI so the hash never lives without its expiry.
        var transaction = database.CreateTransaction();
        // The queued commands' tasks complete with the transaction; nothing waits for them.
        _ = transaction.HashSetAsync(key,
        [
            new(PromptField, entry.Prompt),
            new(ResponseField, entry.Entry),
            new(VectorField, vector),
            new(ScopeField, entry.Scope),
            new(InsertedAtField, (_time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0).ToString(CultureInfo.InvariantCulture)),
        ]);
        _ = entry.Ttl is { } ttl ? transaction.KeyExpireAsync(key, ttl) : transaction.KeyPersistAsync(key);
        transaction.Execute(CommandFlags.FireAndForget);
        if (_vectorSearch)
        {
            return;
        }

        var expiresAt = ExpiresAt(entry.Ttl);
        _index.Upsert(new IndexedEntry(entry.EntryId, entry.Scope, entry.Vector, expiresAt));
        Multiplexer().GetSubscriber().Publish(_channel, UpsertAnnouncement(entry, vector), CommandFlags.FireAndForget);
    }

    public async Task<long> DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var redisKeys = new RedisKey[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            redisKeys[i] = keys[i];
        }

        var removed = await Database().KeyDeleteAsync(redisKeys).WaitAsync(AdminTimeout, cancellationToken);
        var prefix = _options.IndexName + ":";
        foreach (var key in keys)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal) && key.Length == prefix.Length + EntryIdLength)
            {
                var entryId = key[prefix.Length..];
                _index.Remove(entryId);
                Multiplexer().GetSubscriber().Publish(_channel, Announcement(DeleteMessage, entryId), CommandFlags.FireAndForget);
            }
        }

        return removed;
    }

    public async Task<long> FlushAsync(CancellationToken cancellationToken)
    {
        long removed = 0;
        var batch = new List<RedisKey>(500);
        await foreach (var key in EntryKeysAsync(cancellationToken))
        {
            batch.Add(key);
            if (batch.Count == 500)
            {
                removed += await Database().KeyDeleteAsync([.. batch]).WaitAsync(AdminTimeout, cancellationToken);
                batch.Clear();
            }
        }

        if (batch.Count > 0)
        {
            removed += await Database().KeyDeleteAsync([.. batch]).WaitAsync(AdminTimeout, cancellationToken);
        }

        _index.Clear();
        Multiplexer().GetSubscriber().Publish(_channel, Announcement(FlushMessage, ""), CommandFlags.FireAndForget);
        return removed;
    }

    public async Task<IReadOnlyList<KeyValuePair<string, string>>> PingAsync(CancellationToken cancellationToken)
    {
        var database = Database();
        var latency = await database.PingAsync().WaitAsync(AdminTimeout, cancellationToken);
        // As LiteLLM's /cache/ping: prove that a write works too.
        await database.StringSetAsync("litellm-gateway:cache-ping", "test_key", TimeSpan.FromSeconds(60)).WaitAsync(AdminTimeout, cancellationToken);
        var multiplexer = Multiplexer();
        var server = multiplexer.GetServers().FirstOrDefault();
        return
        [
            new("redis_endpoint", _options.Common.RedisEndpoint),
            new("db", _options.Common.RedisDatabase.ToString(CultureInfo.InvariantCulture)),
            new("redis_version", server?.Version.ToString() ?? "unknown"),
            new("ping_ms", latency.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture)),
            new("connected", multiplexer.IsConnected ? "True" : "False"),
            new("index_name", _options.IndexName),
            new("vector_search", _vectorSearch ? "redis FT.SEARCH" : "in-process index (this Redis has no vector search)"),
            new("index_entries", _vectorSearch ? "n/a" : _index.Count.ToString(CultureInfo.InvariantCulture)),
            new("index_synchronised", _vectorSearch || _synchronised ? "True" : "False"),
        ];
    }

    public void Dispose()
    {
        _disposed.Cancel();
        _multiplexer?.Dispose();
        _index.Dispose();
        _disposed.Dispose();
    }

    private async ValueTask<ReadOnlyMemory<byte>?> ReadResponseAsync(string entryId, CancellationToken cancellationToken)
    {
        var value = await Database().HashGetAsync(_options.EntryKey(entryId), ResponseField).WaitAsync(_options.Common.OperationTimeout, cancellationToken);
        if (value.IsNull)
        {
            // Expired or evicted in Redis (LRU evictions are not announced): forget it here too.
            _index.Remove(entryId);
            return null;
        }

        return (byte[]?)value;
    }

    private async ValueTask<SemanticMatch?> SearchServerAsync(string scope, float[] vector, double threshold, CancellationToken cancellationToken)
    {
        RedisResult result;
        try
        {
            result = await Database().ExecuteAsync("FT.SEARCH", RedisVectorSearch.SearchArguments(_options.IndexName, scope, SemanticVectors.ToBytes(vector)))
                .WaitAsync(_options.Common.OperationTimeout, cancellationToken);
        }
        catch (RedisServerException ex) when (ex.Message.Contains("no such index", StringComparison.OrdinalIgnoreCase))
        {
            // Nothing stored yet: the index is created with the first entry (its dimensions come from that embedding).
            return null;
        }

        if (RedisVectorSearch.ParseSearch(result, _options.IndexName) is not { } found)
        {
            return null;
        }

        return new SemanticMatch(found.EntryId, found.Similarity, found.Similarity >= threshold && found.Response is { } response ? response : null);
    }

    private void EnsureServerIndex(IDatabase database, int dimensions)
    {
        if (Interlocked.Exchange(ref _indexedDimensions, dimensions) == dimensions)
        {
            return;
        }

        // "Index already exists" on a second replica or after a restart is fine; fire and forget drops that error.
        database.Execute("FT.CREATE", RedisVectorSearch.CreateIndexArguments(_options.IndexName, dimensions), CommandFlags.FireAndForget);
    }

    private long ExpiresAt(TimeSpan? ttl) =>
        ttl is { } value ? _time.GetUtcNow().ToUnixTimeMilliseconds() + (long)value.TotalMilliseconds : long.MaxValue;

    private byte[] UpsertAnnouncement(SemanticEntry entry, byte[] vector)
    {
        var message = new byte[1 + ReplicaIdLength + EntryIdLength + ScopeLength + sizeof(long) + vector.Length];
        message[0] = UpsertMessage;
        _replica.CopyTo(message, 1);
        var at = 1 + ReplicaIdLength;
        Encoding.ASCII.GetBytes(entry.EntryId, message.AsSpan(at, EntryIdLength));
        at += EntryIdLength;
        Encoding.ASCII.GetBytes(entry.Scope, message.AsSpan(at, ScopeLength));
        at += ScopeLength;
        // The ttl, not the end time: replicas' clocks need not agree.
        BinaryPrimitives.WriteInt64LittleEndian(message.AsSpan(at), entry.Ttl is { } ttl ? (long)ttl.TotalMilliseconds : -1);
        at += sizeof(long);
        vector.CopyTo(message, at);
        return message;
    }

    private byte[] Announcement(byte kind, string entryId)
    {
        var message = new byte[1 + ReplicaIdLength + entryId.Length];
        message[0] = kind;
        _replica.CopyTo(message, 1);
        Encoding.ASCII.GetBytes(entryId, message.AsSpan(1 + ReplicaIdLength));
        return message;
    }

    private void OnAnnouncement(ReadOnlySpan<byte> message)
    {
        if (message.Length < 1 + ReplicaIdLength || message.Slice(1, ReplicaIdLength).SequenceEqual(_replica))
        {
            return;
        }

        var body = message[(1 + ReplicaIdLength)..];
        switch (message[0])
        {
            case UpsertMessage when body.Length > EntryIdLength + ScopeLength + sizeof(long):
                var entryId = Encoding.ASCII.GetString(body[..EntryIdLength]);
                var scope = Encoding.ASCII.GetString(body.Slice(EntryIdLength, ScopeLength));
                var ttl = BinaryPrimitives.ReadInt64LittleEndian(body[(EntryIdLength + ScopeLength)..]);
                if (SemanticVectors.FromBytes(body[(EntryIdLength + ScopeLength + sizeof(long))..]) is { } vector)
                {
                    _index.Upsert(new IndexedEntry(entryId, scope, vector, ttl < 0 ? long.MaxValue : ExpiresAt(TimeSpan.FromMilliseconds(ttl))));
                }

                break;
            case DeleteMessage when body.Length == EntryIdLength:
                _index.Remove(Encoding.ASCII.GetString(body));
                break;
            case FlushMessage:
                _index.Clear();
                break;
        }
    }

    private async Task ConnectAsync()
    {
        try
        {
            var multiplexer = await ConnectionMultiplexer.ConnectAsync(CacheRedisConfiguration.For(_options.Common, "litellm-gateway-semantic-cache"));
            if (_disposed.IsCancellationRequested)
            {
                multiplexer.Dispose();
                return;
            }

            multiplexer.ConnectionFailed += (_, e) =>
            {
                // Announcements sent while this replica is away are lost: it must read the entries again once back.
                // Reconnect attempts fail again and again while Redis is down: log the first only.
                if (e.ConnectionType == ConnectionType.Subscription && _synchronised)
                {
                    _synchronised = false;
                    Log.ConnectionFailed(_logger, _options.Common.RedisEndpoint, e.FailureType.ToString());
                }
            };
            multiplexer.ConnectionRestored += (_, _) => StartCatchUp();
            _multiplexer = multiplexer;
            if (!multiplexer.IsConnected)
            {
                Log.NotConnectedYet(_logger, _options.Common.RedisEndpoint);
                return;
            }

            StartCatchUp();
            await CatchUp;
        }
        catch (Exception ex) when (ex is RedisException or ArgumentException or InvalidOperationException)
        {
            Log.ConnectFailed(_logger, _options.Common.RedisEndpoint, ex.Message);
        }
    }

    private async Task DetectVectorSearchAsync(ConnectionMultiplexer multiplexer)
    {
        try
        {
            await multiplexer.GetDatabase(_options.Common.RedisDatabase).ExecuteAsync(RedisVectorSearch.ProbeCommand).WaitAsync(AdminTimeout);
            _vectorSearch = true;
        }
        catch (RedisServerException)
        {
            // "unknown command": plain Redis, so the vectors are searched in this process.
            _vectorSearch = false;
        }

        Log.Mode(_logger, _options.Common.RedisEndpoint, _vectorSearch ? "FT.SEARCH on the server" : "an in-process index kept in sync over pub/sub");
    }

    // One catch-up at a time, whichever connection (interactive or subscription) came back last.
    private void StartCatchUp()
    {
        if (_disposed.IsCancellationRequested || _synchronised || Interlocked.Exchange(ref _catchingUp, 1) == 1)
        {
            return;
        }

        Volatile.Write(ref _catchUp, CatchUpAsync());
    }

    // Subscribe, then read every entry; retried every second while Redis is only half back (its two connections
    // reconnect separately) until it succeeds or the store is disposed.
    private async Task CatchUpAsync()
    {
        try
        {
            var attempt = 0;
            while (!_disposed.IsCancellationRequested && await SubscribeAndRebuildAsync() is { } failure)
            {
                if (attempt++ == 0)
                {
                    Log.RebuildFailed(_logger, _options.Common.RedisEndpoint, failure);
                }

                await Task.Delay(CatchUpRetry, _time, _disposed.Token);
            }
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
            // Disposed.
        }
        finally
        {
            Volatile.Write(ref _catchingUp, 0);
        }
    }

    /// <returns>Null when done, else why it failed.</returns>
    private async Task<string?> SubscribeAndRebuildAsync()
    {
        try
        {
            if (!_detected)
            {
                await DetectVectorSearchAsync(Multiplexer());
                _detected = true;
            }

            if (_vectorSearch)
            {
                _synchronised = true;
                return null;
            }

            var subscriber = Multiplexer().GetSubscriber();
            await subscriber.UnsubscribeAsync(_channel);
            // Subscribed before the scan: an entry stored during it arrives by both ways, which is harmless.
            await subscriber.SubscribeAsync(_channel, (_, value) => OnAnnouncement(((byte[]?)value).AsSpan()));
            await _index.RebuildAsync(ScanAsync, _disposed.Token);
            _synchronised = true;
            return null;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException
            || (ex is OperationCanceledException && !_disposed.IsCancellationRequested))
        {
            return ex.Message;
        }
    }

    // Every entry's scope, vector and remaining ttl, read in pipelined batches.
    private async IAsyncEnumerable<IndexedEntry> ScanAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var database = Database();
        var batch = new List<RedisKey>(ScanBatch);
        await foreach (var key in EntryKeysAsync(cancellationToken))
        {
            batch.Add(key);
            if (batch.Count < ScanBatch)
            {
                continue;
            }

            foreach (var entry in await ReadBatchAsync(database, batch))
            {
                yield return entry;
            }

            batch.Clear();
        }

        foreach (var entry in await ReadBatchAsync(database, batch))
        {
            yield return entry;
        }
    }

    private async Task<List<IndexedEntry>> ReadBatchAsync(IDatabase database, List<RedisKey> keys)
    {
        var fields = new Task<RedisValue[]>[keys.Count];
        var ttls = new Task<TimeSpan?>[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            fields[i] = database.HashGetAsync(keys[i], IndexFields);
            ttls[i] = database.KeyTimeToLiveAsync(keys[i]);
        }

        await Task.WhenAll(Task.WhenAll(fields), Task.WhenAll(ttls)).WaitAsync(AdminTimeout);
        var entries = new List<IndexedEntry>(keys.Count);
        var prefixLength = _options.IndexName.Length + 1;
        for (var i = 0; i < keys.Count; i++)
        {
            var values = await fields[i];
            var scope = values[0];
            var vector = SemanticVectors.FromBytes(((byte[]?)values[1]).AsSpan());
            var key = keys[i].ToString();
            if (scope.IsNull || vector is null || key.Length != prefixLength + EntryIdLength)
            {
                continue;
            }

            entries.Add(new IndexedEntry(key[prefixLength..], scope.ToString(), vector, ExpiresAt(await ttls[i])));
        }

        return entries;
    }

    private async IAsyncEnumerable<RedisKey> EntryKeysAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var multiplexer = Multiplexer();
        foreach (var server in multiplexer.GetServers())
        {
            if (server.IsReplica)
            {
                continue;
            }

            if (!server.IsConnected)
            {
                // A scan of a server that is not back yet would read an empty index: fail, and the catch-up retries.
                throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, $"{server.EndPoint} is not connected");
            }

            await foreach (var key in server.KeysAsync(_options.Common.RedisDatabase, _options.IndexName + ":*", pageSize: 1000).WithCancellation(cancellationToken))
            {
                yield return key;
            }
        }
    }

    private IDatabase Database() => Multiplexer().GetDatabase(_options.Common.RedisDatabase);

    private ConnectionMultiplexer Multiplexer() =>
        _multiplexer is { } multiplexer ? multiplexer : throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is not connected yet");

    private static partial class Log
    {
        [LoggerMessage(2321, LogLevel.Warning, "Semantic cache: Redis at {Endpoint} is not reachable yet; requests run uncached until it is")]
        public static partial void NotConnectedYet(ILogger logger, string endpoint);

        [LoggerMessage(2322, LogLevel.Warning, "Semantic cache: lost the connection to Redis at {Endpoint} ({Failure}); the index is read again when it is back")]
        public static partial void ConnectionFailed(ILogger logger, string endpoint, string failure);

        [LoggerMessage(2323, LogLevel.Error, "Semantic cache: cannot use Redis at {Endpoint}: {Reason}; the cache stays off")]
        public static partial void ConnectFailed(ILogger logger, string endpoint, string reason);

        [LoggerMessage(2324, LogLevel.Information, "Semantic cache: Redis at {Endpoint}; vectors are searched with {Mode}")]
        public static partial void Mode(ILogger logger, string endpoint, string mode);

        [LoggerMessage(2325, LogLevel.Warning, "Semantic cache: reading the index from Redis at {Endpoint} failed ({Reason}); retrying every second until it works")]
        public static partial void RebuildFailed(ILogger logger, string endpoint, string reason);
    }
}
