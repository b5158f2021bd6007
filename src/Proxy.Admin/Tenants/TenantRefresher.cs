using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Tenants;

/// <summary>
/// Reads every tenant row at start (once the schema is there) and again every general_settings.user_api_key_cache_ttl,
/// as the keys are re-read: changes made through another replica apply here, and the spend other replicas wrote
/// counts against the budgets here. The proxy budget's row (user litellm-proxy-budget) is written from the config.
/// </summary>
internal sealed partial class TenantRefresher(TenantDirectory directory, ITenantStore store, StoreStatus status, AdminOptions options, TimeProvider time,
    ILogger<TenantRefresher> logger) : BackgroundService
{
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes after the first successful load (tests and readiness wait on it).</summary>
    public Task Loaded => _loaded.Task;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Loaded before the first request when the database is there; otherwise in the background.
        if (status.Connected)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await TryRefreshAsync(timeout.Token);
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var wait = _loaded.Task.IsCompleted ? options.KeyRefreshInterval : TimeSpan.FromSeconds(1);
                await Task.Delay(wait, time, stoppingToken);
                await TryRefreshAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task TryRefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RefreshAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is StoreUnavailableException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Log.RefreshFailed(logger, ex.Message);
        }
    }

    internal async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (!_loaded.Task.IsCompleted && directory.Proxy is not null && store is SqlKeyStore sql)
        {
            await sql.EnsureProxyBudgetAsync(TenantDirectory.ProxyBudgetUserId, options.ProxyMaxBudget!.Value, options.ProxyBudgetDuration,
                time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
        }

        var versions = directory.Versions();
        var rows = await store.LoadTenantsAsync(cancellationToken);
        directory.Apply(rows, versions);
        _loaded.TrySetResult();
    }

    private static partial class Log
    {
        [LoggerMessage(4004, LogLevel.Warning, "Could not read teams, users, customers and budgets; the cached ones keep serving: {Reason}")]
        public static partial void RefreshFailed(ILogger logger, string reason);
    }
}
