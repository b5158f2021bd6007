using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Proxy.Admin.Storage;

/// <summary>
/// Creates the schema at start and keeps trying in the background while the database is away (the gateway serves
/// known keys meanwhile); reports "db" for /health/readiness from the last check.
/// </summary>
internal sealed partial class StoreStatus(IKeyStore store, TimeProvider time, ILogger<StoreStatus> logger) : BackgroundService, IReadinessContributor
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(5);
    private volatile bool _connected;
    private readonly TaskCompletionSource _schemaReady = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name => "db";

    public bool Connected => _connected;

    public void WriteValue(Utf8JsonWriter json) => json.WriteStringValue(_connected ? "connected" : "Not connected");

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // A reachable database gets its schema before the first request; an unreachable one must not stop start-up.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        await TryCreateSchemaAsync(timeout.Token);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(CheckInterval, time, stoppingToken);
                if (!_schemaReady.Task.IsCompleted)
                {
                    await TryCreateSchemaAsync(stoppingToken);
                }
                else
                {
                    _connected = await store.PingAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task TryCreateSchemaAsync(CancellationToken cancellationToken)
    {
        try
        {
            await store.EnsureSchemaAsync(cancellationToken);
            _connected = true;
            _schemaReady.TrySetResult();
            Log.SchemaReady(logger, store.Kind);
        }
        catch (Exception ex) when (ex is StoreUnavailableException or OperationCanceledException)
        {
            _connected = false;
            Log.SchemaDeferred(logger, store.Kind, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4001, LogLevel.Information, "Key store ready ({Kind})")]
        public static partial void SchemaReady(ILogger logger, string kind);

        [LoggerMessage(4002, LogLevel.Warning, "Key store ({Kind}) not reachable at start; known keys will work once loaded, retrying: {Reason}")]
        public static partial void SchemaDeferred(ILogger logger, string kind, string reason);
    }
}
