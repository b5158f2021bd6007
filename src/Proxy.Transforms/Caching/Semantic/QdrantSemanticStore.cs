using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Proxy.Transforms.Caching.Semantic;

/// <summary>
/// <c>qdrant-semantic</c> through Qdrant's REST API. One point per entry (its id is the entry id as a UUID, so a
/// repeated prompt overwrites), with the payload <c>text</c>, <c>response</c> (the <see cref="CacheEntry"/> as text),
/// <c>litellm_cache_key</c> (the scope, a keyword index, and a filter on every search; LiteLLM's Qdrant cache does not
/// scope its searches) and <c>expires_at</c> (unix seconds; Qdrant has no ttl, so searches skip expired points and a
/// sweep deletes them). The collection is created with the first entry (Cosine, LiteLLM's quantization choices) unless
/// it exists. Writes go through one background loop, so the request path never waits for them.
/// </summary>
internal sealed partial class QdrantSemanticStore : ISemanticCacheStore
{
    public const string HttpClientName = "semantic-cache-qdrant";

    private static readonly TimeSpan AdminTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(2);

    private readonly SemanticCacheOptions _options;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _collection;
    private readonly Channel<Write> _writes = Channel.CreateBounded<Write>(new BoundedChannelOptions(10_000) { SingleReader = true });
    private readonly CancellationTokenSource _disposed = new();
    private readonly ITimer _sweep;
    private readonly Task _writer;
    private readonly Task _started;
    // 0: not known to exist; -1: exists (made elsewhere); above 0: created here with that size.
    private int _collectionSize;
    private long _unavailableUntil;

    public QdrantSemanticStore(SemanticCacheOptions options, HttpClient http, TimeProvider time, ILogger logger)
    {
        _options = options;
        _http = http;
        _time = time;
        _logger = logger;
        _collection = Uri.EscapeDataString(options.QdrantCollection);
        _started = CheckCollectionAsync();
        _writer = RunWritesAsync(_disposed.Token);
        _sweep = time.CreateTimer(_ => _writes.Writer.TryWrite(Write.Sweep), null, SweepInterval, SweepInterval);
    }

    /// <summary>False for a short while after a failed call, so a Qdrant that is down is not waited for by every request.</summary>
    public bool IsAvailable => _time.GetTimestamp() >= Interlocked.Read(ref _unavailableUntil);

    public Task Started => _started;

    public long Entries => -1;

    /// <summary>Completes when every write queued before it has been sent (tests).</summary>
    internal async Task WhenWrittenAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _writes.Writer.WriteAsync(new Write(WriteKind.Barrier, null, done), cancellationToken);
        await done.Task.WaitAsync(cancellationToken);
    }

    // A lookup by id is a round trip, as costly as the search that follows a miss: only the search is made.
    public ValueTask<ReadOnlyMemory<byte>?> GetExactAsync(string entryId, CancellationToken cancellationToken) => ValueTask.FromResult<ReadOnlyMemory<byte>?>(null);

    public async ValueTask<SemanticMatch?> SearchAsync(string scope, float[] vector, double threshold, CancellationToken cancellationToken)
    {
        var body = Json(json =>
        {
            json.WriteStartObject();
            WriteVector(json, "vector", vector);
            json.WriteNumber("limit", 1);
            json.WriteBoolean("with_payload", true);
            WriteScopeFilter(json, scope);
            if (_options.QdrantQuantization.Length > 0)
            {
                // As LiteLLM: search the quantized vectors, then rescore the best candidates with the originals.
                json.WriteStartObject("params");
                json.WriteStartObject("quantization");
                json.WriteBoolean("ignore", false);
                json.WriteBoolean("rescore", true);
                json.WriteNumber("oversampling", 3.0);
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndObject();
        });
        using var response = await CallAsync(HttpMethod.Post, $"collections/{_collection}/points/search", body, _options.Common.OperationTimeout, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            // No collection yet: it is created with the first entry.
            return null;
        }

        await EnsureSuccessAsync(response, cancellationToken);
        using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        if (!document.RootElement.TryGetProperty("result", out var result) || result.ValueKind != JsonValueKind.Array || result.GetArrayLength() == 0)
        {
            return null;
        }

        var point = result[0];
        var similarity = point.GetProperty("score").GetDouble();
        var entryId = EntryIdOf(point.GetProperty("id"));
        if (similarity < threshold || !point.TryGetProperty("payload", out var payload) || payload.ValueKind != JsonValueKind.Object)
        {
            return new SemanticMatch(entryId, similarity, null);
        }

        var fresh = !payload.TryGetProperty("expires_at", out var expires) || expires.ValueKind != JsonValueKind.Number
            || expires.GetDouble() > _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
        var entry = fresh && payload.TryGetProperty("response", out var stored) && stored.ValueKind == JsonValueKind.String
            ? Encoding.UTF8.GetBytes(stored.GetString()!)
            : null;
        return new SemanticMatch(entryId, similarity, entry);
    }

    public void Store(SemanticEntry entry)
    {
        if (!_writes.Writer.TryWrite(new Write(WriteKind.Upsert, entry, null)))
        {
            Log.WriteDropped(_logger);
        }
    }

    public async Task<long> DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var prefix = _options.IndexName + ":";
        var ids = new List<string>(keys.Count);
        foreach (var key in keys)
        {
            var entryId = key.StartsWith(prefix, StringComparison.Ordinal) ? key[prefix.Length..] : key;
            if (PointId(entryId) is { } id)
            {
                ids.Add(id);
            }
        }

        if (ids.Count == 0)
        {
            return 0;
        }

        var body = Json(json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("points");
            foreach (var id in ids)
            {
                json.WriteStringValue(id);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
        using var response = await SendAsync(HttpMethod.Post, $"collections/{_collection}/points/delete?wait=true", body, AdminTimeout, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return 0;
        }

        await EnsureSuccessAsync(response, cancellationToken);
        return ids.Count;
    }

    // Drops the collection (the next entry creates it again), which is how Qdrant empties one at once.
    public async Task<long> FlushAsync(CancellationToken cancellationToken)
    {
        var count = await PointsCountAsync(cancellationToken);
        using var response = await SendAsync(HttpMethod.Delete, $"collections/{_collection}", null, AdminTimeout, cancellationToken);
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            await EnsureSuccessAsync(response, cancellationToken);
        }

        Volatile.Write(ref _collectionSize, 0);
        return count ?? 0;
    }

    public async Task<IReadOnlyList<KeyValuePair<string, string>>> PingAsync(CancellationToken cancellationToken)
    {
        var count = await PointsCountAsync(cancellationToken);
        return
        [
            new("qdrant_api_base", _options.QdrantApiBase?.GetLeftPart(UriPartial.Path) ?? ""),
            new("collection_name", _options.QdrantCollection),
            new("quantization_config", _options.QdrantQuantization),
            new("points_count", count?.ToString(CultureInfo.InvariantCulture) ?? "collection not created yet (the first entry creates it)"),
        ];
    }

    public void Dispose()
    {
        _sweep.Dispose();
        _writes.Writer.TryComplete();
        _disposed.Cancel();
    }

    /// <summary>The entry id (32 hex digits) as the UUID Qdrant accepts as a point id; null when it is not one.</summary>
    internal static string? PointId(string entryId) =>
        entryId.Length == 32 && Guid.TryParseExact(entryId, "N", out var guid) ? guid.ToString("D") : null;

    private static string EntryIdOf(JsonElement id) =>
        id.ValueKind == JsonValueKind.String && Guid.TryParse(id.GetString(), out var guid) ? guid.ToString("N") : id.ToString();

    private async Task<long?> PointsCountAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, $"collections/{_collection}", null, AdminTimeout, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccessAsync(response, cancellationToken);
        using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        return document.RootElement.TryGetProperty("result", out var result) && result.TryGetProperty("points_count", out var points)
            && points.TryGetInt64(out var value) ? value : null;
    }

    private async Task CheckCollectionAsync()
    {
        try
        {
            if (await CollectionExistsAsync(_disposed.Token))
            {
                Volatile.Write(ref _collectionSize, -1);
            }
            else if (_options.QdrantVectorSize is { } size)
            {
                await CreateCollectionAsync(size, _disposed.Token);
            }

        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or TaskCanceledException or QdrantException)
        {
            MarkUnavailable();
            // Lookups fail over to "uncached" until Qdrant answers; the writer retries the collection with the next entry.
            Log.Unreachable(_logger, _options.QdrantApiBase?.GetLeftPart(UriPartial.Authority) ?? "", ex.Message);
        }
    }

    private async Task<bool> CollectionExistsAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, $"collections/{_collection}/exists", null, AdminTimeout, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        return document.RootElement.GetProperty("result").GetProperty("exists").GetBoolean();
    }

    private async Task CreateCollectionAsync(int size, CancellationToken cancellationToken)
    {
        var body = Json(json =>
        {
            json.WriteStartObject();
            json.WriteStartObject("vectors");
            json.WriteNumber("size", size);
            json.WriteString("distance", "Cosine");
            json.WriteEndObject();
            WriteQuantization(json, _options.QdrantQuantization);
            json.WriteEndObject();
        });
        using (var created = await SendAsync(HttpMethod.Put, $"collections/{_collection}", body, AdminTimeout, cancellationToken))
        {
            // 409: another replica created it first.
            if (created.StatusCode != HttpStatusCode.Conflict)
            {
                await EnsureSuccessAsync(created, cancellationToken);
            }
        }

        // A keyword index on the scope, so the filter on every search does not scan the payloads.
        var index = Json(json =>
        {
            json.WriteStartObject();
            json.WriteString("field_name", RedisSemanticStore.ScopeField);
            json.WriteString("field_schema", "keyword");
            json.WriteEndObject();
        });
        using (var indexed = await SendAsync(HttpMethod.Put, $"collections/{_collection}/index?wait=true", index, AdminTimeout, cancellationToken))
        {
            await EnsureSuccessAsync(indexed, cancellationToken);
        }

        Volatile.Write(ref _collectionSize, size);
        Log.CollectionCreated(_logger, _options.QdrantCollection, size, _options.QdrantQuantization);
    }

    private async Task RunWritesAsync(CancellationToken stopping)
    {
        try
        {
            await foreach (var write in _writes.Reader.ReadAllAsync(stopping))
            {
                try
                {
                    switch (write.Kind)
                    {
                        case WriteKind.Upsert:
                            await UpsertAsync(write.Entry!, stopping);
                            break;
                        case WriteKind.Sweep:
                            await DeleteExpiredAsync(stopping);
                            break;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TimeoutException or QdrantException
                    || (ex is TaskCanceledException && !stopping.IsCancellationRequested))
                {
                    MarkUnavailable();
                    Log.WriteFailed(_logger, write.Kind.ToString(), ex.Message);
                }

                write.Done?.TrySetResult();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    private async Task UpsertAsync(SemanticEntry entry, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _collectionSize) == 0)
        {
            if (await CollectionExistsAsync(cancellationToken))
            {
                Volatile.Write(ref _collectionSize, -1);
            }
            else
            {
                await CreateCollectionAsync(_options.QdrantVectorSize ?? entry.Vector.Length, cancellationToken);
            }
        }

        var expiresAt = entry.Ttl is { } ttl ? (_time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0) + ttl.TotalSeconds : (double?)null;
        var body = Json(json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("points");
            json.WriteStartObject();
            json.WriteString("id", PointId(entry.EntryId));
            WriteVector(json, "vector", entry.Vector);
            json.WriteStartObject("payload");
            json.WriteString("text", entry.Prompt);
            json.WriteString("response", Encoding.UTF8.GetString(entry.Entry));
            json.WriteString(RedisSemanticStore.ScopeField, entry.Scope);
            if (expiresAt is { } at)
            {
                json.WriteNumber("expires_at", at);
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        });
        using var response = await SendAsync(HttpMethod.Put, $"collections/{_collection}/points?wait=true", body, AdminTimeout, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    private async Task DeleteExpiredAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
        var body = Json(json =>
        {
            json.WriteStartObject();
            json.WriteStartObject("filter");
            json.WriteStartArray("must");
            json.WriteStartObject();
            json.WriteString("key", "expires_at");
            json.WriteStartObject("range");
            json.WriteNumber("lt", now);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
        });
        using var response = await SendAsync(HttpMethod.Post, $"collections/{_collection}/points/delete", body, AdminTimeout, cancellationToken);
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            await EnsureSuccessAsync(response, cancellationToken);
        }
    }

    // A search that fails marks Qdrant unavailable for a moment; SemanticCache turns the exception into a miss.
    private async Task<HttpResponseMessage> CallAsync(HttpMethod method, string path, byte[]? body, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await SendAsync(method, path, body, timeout, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException)
        {
            MarkUnavailable();
            throw;
        }
    }

    private void MarkUnavailable() =>
        Interlocked.Exchange(ref _unavailableUntil, _time.GetTimestamp() + (long)(RetryAfterFailure.TotalSeconds * _time.TimestampFrequency));

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, byte[]? body, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(_options.QdrantApiBase!, path));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } };
        }

        if (!_options.QdrantApiKey.IsEmpty)
        {
            request.Headers.TryAddWithoutValidation("api-key", _options.QdrantApiKey.Value);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, deadline.Token);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Qdrant did not answer {method} {path} within {timeout.TotalMilliseconds} ms");
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        throw new QdrantException($"Qdrant answered {(int)response.StatusCode}: {(text.Length > 300 ? text[..300] : text)}");
    }

    private static void WriteScopeFilter(Utf8JsonWriter json, string scope)
    {
        json.WriteStartObject("filter");
        json.WriteStartArray("must");
        json.WriteStartObject();
        json.WriteString("key", RedisSemanticStore.ScopeField);
        json.WriteStartObject("match");
        json.WriteString("value", scope);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    // LiteLLM's three choices, with its parameters.
    private static void WriteQuantization(Utf8JsonWriter json, string quantization)
    {
        json.WriteStartObject("quantization_config");
        switch (quantization)
        {
            case "scalar":
                json.WriteStartObject("scalar");
                json.WriteString("type", "int8");
                json.WriteNumber("quantile", 0.99);
                json.WriteBoolean("always_ram", false);
                json.WriteEndObject();
                break;
            case "product":
                json.WriteStartObject("product");
                json.WriteString("compression", "x16");
                json.WriteBoolean("always_ram", false);
                json.WriteEndObject();
                break;
            default:
                json.WriteStartObject("binary");
                json.WriteBoolean("always_ram", false);
                json.WriteEndObject();
                break;
        }

        json.WriteEndObject();
    }

    private static void WriteVector(Utf8JsonWriter json, string name, float[] vector)
    {
        json.WriteStartArray(name);
        foreach (var value in vector)
        {
            json.WriteNumberValue(value);
        }

        json.WriteEndArray();
    }

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            write(json);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private enum WriteKind
    {
        Upsert,
        Sweep,
        Barrier,
    }

    private sealed record Write(WriteKind Kind, SemanticEntry? Entry, TaskCompletionSource? Done)
    {
        public static readonly Write Sweep = new(WriteKind.Sweep, null, null);
    }

    private static partial class Log
    {
        [LoggerMessage(2341, LogLevel.Warning, "Semantic cache: Qdrant at {Endpoint} is not reachable ({Reason}); requests run uncached until it is")]
        public static partial void Unreachable(ILogger logger, string endpoint, string reason);

        [LoggerMessage(2342, LogLevel.Information, "Semantic cache: created Qdrant collection {Collection} ({Size} dimensions, Cosine, {Quantization} quantization)")]
        public static partial void CollectionCreated(ILogger logger, string collection, int size, string quantization);

        [LoggerMessage(2343, LogLevel.Warning, "Semantic cache: Qdrant {Write} failed ({Reason})")]
        public static partial void WriteFailed(ILogger logger, string write, string reason);

        [LoggerMessage(2344, LogLevel.Warning, "Semantic cache: more than 10,000 answers wait to be written to Qdrant; this one is not stored")]
        public static partial void WriteDropped(ILogger logger);
    }
}
