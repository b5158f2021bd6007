using Microsoft.Extensions.Logging;
using Proxy.Abstractions;
using Proxy.Transforms.Caching.Semantic.Index;
using StackExchange.Redis;

namespace Proxy.Transforms.Caching.Semantic;

/// <summary>
/// The semantic cache in force: follows the config (a reload that changes the backend or its address opens a new
/// store; other changes keep the entries), embeds prompts through <see cref="ISemanticEmbedder"/> within the
/// configured timeout, and turns every backend or embedding failure into "uncached" with one warning per interval, so
/// that neither an embedding group nor Redis nor Qdrant being down ever becomes a client error.
/// </summary>
public sealed partial class SemanticCache(
    ISemanticCacheOptionsSource source, SemanticCacheStats stats, TimeProvider time, IHttpClientFactory httpClients, ILoggerFactory loggers,
    ISemanticEmbedder? embedder = null, ISemanticCacheMetrics? metrics = null) : IDisposable
{
    private static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(30);

    private readonly ILogger _logger = loggers.CreateLogger<SemanticCache>();
    private readonly Lock _swapGate = new();
    private volatile ActiveSemanticCache? _active;
    private long _lastWarning = long.MinValue;
    private long _lastEmbeddingWarning = long.MinValue;
    private long _embeddingBackoffUntil;

    public SemanticCacheStats Stats => stats;

    internal TimeProvider Time => time;

    /// <summary>The cache for this request, or null when no semantic cache is configured.</summary>
    internal ActiveSemanticCache? Current
    {
        get
        {
            var options = source.SemanticCurrent;
            var active = _active;
            return ReferenceEquals(active?.Options, options) ? active : Swap(options);
        }
    }

    /// <summary>Cache type and availability for /health/readiness; (null, false) when off.</summary>
    public (string? Type, bool Available) Status => Current is { } active ? (active.Options.TypeName, active.Store.IsAvailable) : (null, false);

    /// <summary>Entries this replica's index holds (-1 when the backend searches); null when off.</summary>
    public long? IndexedEntries => Current?.Store.Entries;

    internal async ValueTask<ReadOnlyMemory<byte>?> TryGetExactAsync(ActiveSemanticCache active, string entryId, CancellationToken cancellationToken)
    {
        if (!active.Store.IsAvailable)
        {
            return null;
        }

        try
        {
            return await active.Store.GetExactAsync(entryId, cancellationToken);
        }
        catch (Exception ex) when (IsBackendFailure(ex))
        {
            Unavailable(active, ex);
            return null;
        }
    }

    /// <summary>The prompt's unit vector, or null when it cannot be had in time (a failure starts a short backoff).</summary>
    internal async ValueTask<float[]?> EmbedAsync(ActiveSemanticCache active, GatewayRequestContext request, string text, CancellationToken cancellationToken)
    {
        var options = active.Options;
        if (embedder is null)
        {
            return null;
        }

        if (time.GetTimestamp() < Interlocked.Read(ref _embeddingBackoffUntil))
        {
            stats.OnEmbeddingSkipped();
            return null;
        }

        var start = time.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.EmbeddingTimeout);
        EmbeddingResult result;
        try
        {
            result = await embedder.EmbedAsync(new EmbeddingRequest(options.EmbeddingModel, text, request.CallId, options.EmbeddingMaxInputTokens), deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            result = EmbeddingResult.Failed($"no embedding within {options.EmbeddingTimeout.TotalMilliseconds} ms (semantic_cache_embedding_timeout)");
        }

        var elapsed = time.GetElapsedTime(start);
        metrics?.ObserveEmbedding(options.TypeName, elapsed, result.Vector is not null);
        if (result.Vector is { Length: > 0 } vector)
        {
            return SemanticIndex.Normalized(vector);
        }

        stats.OnEmbeddingFailed();
        Interlocked.Exchange(ref _embeddingBackoffUntil, time.GetTimestamp() + (long)(options.EmbeddingBackoff.TotalSeconds * time.TimestampFrequency));
        if (Due(ref _lastEmbeddingWarning))
        {
            Log.EmbeddingFailed(_logger, options.EmbeddingModel, result.Error ?? "empty embedding", options.EmbeddingBackoff.TotalSeconds, stats.EmbeddingFailures);
        }

        return null;
    }

    internal async ValueTask<SemanticMatch?> TrySearchAsync(ActiveSemanticCache active, string scope, float[] vector, CancellationToken cancellationToken)
    {
        if (!active.Store.IsAvailable)
        {
            Unavailable(active, null);
            return null;
        }

        try
        {
            var match = await active.Store.SearchAsync(scope, vector, active.Options.SimilarityThreshold, cancellationToken);
            if (match is { } found)
            {
                metrics?.ObserveSimilarity(active.Options.TypeName, found.Similarity);
            }

            return match;
        }
        catch (Exception ex) when (IsBackendFailure(ex))
        {
            Unavailable(active, ex);
            return null;
        }
    }

    internal void Store(ActiveSemanticCache active, SemanticEntry entry)
    {
        if (!active.Store.IsAvailable)
        {
            Unavailable(active, null);
            return;
        }

        try
        {
            active.Store.Store(entry);
            stats.OnStored();
        }
        catch (Exception ex) when (IsBackendFailure(ex))
        {
            Unavailable(active, ex);
        }
    }

    /// <summary>Opens the configured store and waits a bounded time for its first connection (as the exact cache does).</summary>
    public async Task StartAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (Current is not { } active)
        {
            return;
        }

        try
        {
            await active.Store.Started.WaitAsync(wait, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Requests run uncached until the store is reachable.
        }
    }

    /// <summary>/cache/ping: null when off; throws when the backend fails.</summary>
    public async Task<SemanticCachePing?> PingAsync(CancellationToken cancellationToken)
    {
        if (Current is not { } active)
        {
            return null;
        }

        var backend = await active.Store.PingAsync(cancellationToken);
        return new SemanticCachePing(active.Options, backend);
    }

    /// <summary>/cache/delete with the keys of hits (<c>x-litellm-cache-key</c>): null when off.</summary>
    public async Task<long?> DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
        Current is { } active ? await active.Store.DeleteAsync(keys, cancellationToken) : null;

    public async Task<long?> FlushAsync(CancellationToken cancellationToken) =>
        Current is { } active ? await active.Store.FlushAsync(cancellationToken) : null;

    public void Dispose()
    {
        lock (_swapGate)
        {
            _active?.Store.Dispose();
            _active = null;
        }
    }

    internal static bool IsBackendFailure(Exception ex) =>
        ex is RedisException or TimeoutException or ObjectDisposedException or HttpRequestException or QdrantException or System.Text.Json.JsonException
        or KeyNotFoundException or InvalidOperationException;

    private ActiveSemanticCache? Swap(SemanticCacheOptions? options)
    {
        lock (_swapGate)
        {
            var active = _active;
            if (ReferenceEquals(active?.Options, options))
            {
                return active;
            }

            var next = options is null ? null
                : active is not null && active.Options.StoreIdentity == options.StoreIdentity ? new ActiveSemanticCache(options, active.Store)
                : new ActiveSemanticCache(options, CreateStore(options));
            if (active is not null && !ReferenceEquals(active.Store, next?.Store))
            {
                // Requests still using the old store fail over to "uncached"; nothing they need is lost.
                active.Store.Dispose();
            }

            if (options is not null)
            {
                Log.CacheEnabled(_logger, options.TypeName, options.EmbeddingModel, options.SimilarityThreshold, options.Common.OptIn ? "default_off" : "default_on");
            }

            _active = next;
            return next;
        }
    }

    private ISemanticCacheStore CreateStore(SemanticCacheOptions options)
    {
        var logger = loggers.CreateLogger<SemanticCache>();
        return options.Backend switch
        {
            SemanticBackend.Redis => new RedisSemanticStore(options, new SemanticIndex(time, logger), time, logger),
            SemanticBackend.Qdrant => new QdrantSemanticStore(options, httpClients.CreateClient(QdrantSemanticStore.HttpClientName), time, logger),
            _ => new LocalSemanticStore(options, new SemanticIndex(time, logger), time, stats),
        };
    }

    private void Unavailable(ActiveSemanticCache active, Exception? ex)
    {
        stats.OnError();
        if (Due(ref _lastWarning))
        {
            var reason = ex switch
            {
                null => "not connected",
                TimeoutException => $"no answer within {active.Options.Common.OperationTimeout.TotalMilliseconds} ms",
                _ => ex.Message,
            };
            Log.Unavailable(_logger, active.Options.TypeName, reason, stats.Errors);
        }
    }

    // At most one warning per interval: an outage would otherwise log on every request.
    private bool Due(ref long last)
    {
        var now = time.GetTimestamp();
        var previous = Interlocked.Read(ref last);
        if (previous != long.MinValue && time.GetElapsedTime(previous, now) < WarningInterval)
        {
            return false;
        }

        return Interlocked.CompareExchange(ref last, now, previous) == previous;
    }

    private static partial class Log
    {
        [LoggerMessage(2312, LogLevel.Warning, "Semantic cache ({Type}) unavailable ({Reason}); requests go upstream uncached ({Errors} errors so far; this warning repeats at most every 30 s)")]
        public static partial void Unavailable(ILogger logger, string type, string reason, long errors);

        [LoggerMessage(2313, LogLevel.Information, "Semantic cache on: {Type}, embeddings from model group {EmbeddingModel}, similarity_threshold {Threshold}, mode {Mode}")]
        public static partial void CacheEnabled(ILogger logger, string type, string embeddingModel, double threshold, string mode);

        [LoggerMessage(2314, LogLevel.Warning, "Semantic cache: embedding with model group {EmbeddingModel} failed ({Reason}); requests go upstream uncached, embedding is retried in {Seconds} s ({Failures} failures so far; this warning repeats at most every 30 s)")]
        public static partial void EmbeddingFailed(ILogger logger, string embeddingModel, string reason, double seconds, long failures);
    }
}

/// <summary>The settings and store of one config version.</summary>
internal sealed record ActiveSemanticCache(SemanticCacheOptions Options, ISemanticCacheStore Store);

/// <summary>What /cache/ping reports for the semantic cache.</summary>
public sealed record SemanticCachePing(SemanticCacheOptions Options, IReadOnlyList<KeyValuePair<string, string>> Backend);
