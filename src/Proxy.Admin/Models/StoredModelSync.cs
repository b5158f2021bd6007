using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Models;

/// <summary>
/// With STORE_MODEL_IN_DB, loads the stored models at start and polls for changes made by other replicas (LiteLLM
/// polls about every 10 s); a change goes to the catalog, which makes the host apply a new snapshot.
/// </summary>
internal sealed partial class StoredModelSync(
    IKeyStore store, StoredModelCatalog catalog, AdminOptions options, TimeProvider time, StoredModelSecrets secrets, ILogger<StoredModelSync> logger)
    : BackgroundService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(10);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.StoreModelInDb)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await SyncAsync(timeout.Token);
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.StoreModelInDb)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(PollInterval, time, stoppingToken);
                await SyncAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    internal async Task SyncAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<ModelRow> rows;
        try
        {
            rows = await store.ListModelsAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is StoreUnavailableException or OperationCanceledException)
        {
            Log.SyncFailed(logger, ex.Message);
            return;
        }

        var undecryptable = new List<string>();
        var models = ModelApi.ToStored(rows, secrets.Cipher, undecryptable);
        foreach (var id in undecryptable)
        {
            Log.CannotDecrypt(logger, id);
        }

        if (!models.SequenceEqual(catalog.Models))
        {
            catalog.Replace(models);
        }

        await EncryptPlaintextRowsAsync(rows, cancellationToken);
    }

    // Rows written before stored secrets were encrypted: encrypted in place once (any replica may do it; it is idempotent).
    private async Task EncryptPlaintextRowsAsync(IReadOnlyList<ModelRow> rows, CancellationToken cancellationToken)
    {
        if (secrets.Cipher is not { } cipher)
        {
            return;
        }

        foreach (var row in rows)
        {
            if (!StoredSecretCipher.HasPlaintextKey(row.LitellmParams))
            {
                continue;
            }

            try
            {
                row.LitellmParams = cipher.Seal(row.LitellmParams);
                row.UpdatedAt = time.GetUtcNow().ToUnixTimeMilliseconds();
                await store.UpsertModelAsync(row, cancellationToken);
            }
            catch (Exception ex) when (ex is StoreUnavailableException or OperationCanceledException)
            {
                Log.SyncFailed(logger, ex.Message);
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4201, LogLevel.Warning, "Could not read the stored models, keeping the ones in use: {Reason}")]
        public static partial void SyncFailed(ILogger logger, string reason);

        [LoggerMessage(4202, LogLevel.Error, "Stored model {ModelId} is left out: its api_key cannot be decrypted (LITELLM_SALT_KEY, or the master key without one, differs from the one it was stored with)")]
        public static partial void CannotDecrypt(ILogger logger, string modelId);
    }
}
