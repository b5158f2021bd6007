using Proxy.Abstractions;

namespace Proxy.Host.Routing;

/// <summary>
/// router_settings.vllm_metrics_interval (a gateway extension): every interval, GETs <c>/metrics</c> of each hosted_vllm
/// deployment (its api_base without <c>/v1</c>; one request per server when several groups share it) and stores the
/// gauges on the deployment's <see cref="EngineLoad"/>, where least-busy and prefix-cache-aware read them. Never on the
/// request path. A deployment that fails a scrape (down, timeout, not vLLM) falls back to the gateway's own counts until
/// a scrape succeeds again; a scrape older than three intervals is not used. No credentials are sent: vLLM's /metrics
/// needs none, and a deployment's api_key is for its API.
/// </summary>
internal sealed partial class VllmMetricsScraper(GatewayState state, IHttpClientFactory clients, TimeProvider time, ILogger<VllmMetricsScraper> logger)
    : BackgroundService
{
    public const string ClientName = "vllm-metrics";

    // With scraping off, how often to look whether a reload turned it on.
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var client = clients.CreateClient(ClientName);
        var failing = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var snapshot = state.Current;
                if (snapshot.Router.VllmMetricsInterval is not { } interval)
                {
                    await Task.Delay(IdlePoll, time, stoppingToken);
                    continue;
                }

                var started = time.GetTimestamp();
                await ScrapeAllAsync(client, snapshot, interval, failing, stoppingToken);
                var wait = interval - time.GetElapsedTime(started);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private async Task ScrapeAllAsync(HttpClient client, GatewaySnapshot snapshot, TimeSpan interval, HashSet<string> failing, CancellationToken stoppingToken)
    {
        var servers = new Dictionary<string, List<Deployment>>(StringComparer.Ordinal);
        foreach (var route in snapshot.Deployments.Values)
        {
            if (MetricsUrl(route.Deployment) is not { } url)
            {
                continue;
            }

            if (!servers.TryGetValue(url, out var list))
            {
                servers[url] = list = [];
            }

            list.Add(route.Deployment);
        }

        var tasks = new List<Task>(servers.Count);
        foreach (var (url, deployments) in servers)
        {
            tasks.Add(ScrapeAsync(client, url, deployments, interval, failing, stoppingToken));
        }

        await Task.WhenAll(tasks);
    }

    private async Task ScrapeAsync(HttpClient client, string url, List<Deployment> deployments, TimeSpan interval, HashSet<string> failing, CancellationToken stoppingToken)
    {
        // A scrape may take at most one interval (at least 1 s): a slow engine must not pile scrapes up.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(interval > TimeSpan.FromSeconds(1) ? interval : TimeSpan.FromSeconds(1));
        string? failure = null;
        try
        {
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseContentRead, timeout.Token);
            if (response.IsSuccessStatusCode)
            {
                var gauges = VllmGauges.Parse(await response.Content.ReadAsStringAsync(timeout.Token));
                if (gauges.Found)
                {
                    Apply(deployments, gauges, interval);
                    Recovered(url, failing);
                    return;
                }

                failure = "no vllm: gauges on the page";
            }
            else
            {
                failure = "HTTP " + ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            failure = "timed out";
        }
        catch (HttpRequestException ex)
        {
            failure = ex.Message;
        }

        if (failure is null)
        {
            return;
        }

        foreach (var deployment in deployments)
        {
            deployment.Stats.Engine.Failed();
        }

        lock (failing)
        {
            if (failing.Add(url))
            {
                Log.ScrapeFailing(logger, Display(url), failure);
            }
        }
    }

    private void Apply(List<Deployment> deployments, VllmGauges gauges, TimeSpan interval)
    {
        var stale = TimeSpan.FromTicks(Math.Max(interval.Ticks * 3, TimeSpan.FromMilliseconds(500).Ticks));
        var freshUntil = time.GetTimestamp() + (long)(stale.TotalSeconds * time.TimestampFrequency);
        foreach (var deployment in deployments)
        {
            var stats = deployment.Stats;
            stats.Engine.Update(gauges.Running, gauges.Waiting, gauges.KvCacheUsage, gauges.BlockSize, gauges.GpuBlocks, stats.InFlight, freshUntil, gauges.StartTime);
        }
    }

    private void Recovered(string url, HashSet<string> failing)
    {
        lock (failing)
        {
            if (failing.Remove(url))
            {
                Log.ScrapeRecovered(logger, Display(url));
            }
        }
    }

    // Scheme, host and port only: an api_base may carry credentials in its user info.
    private static string Display(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Host}:{uri.Port}" : "(invalid url)";

    /// <summary>http://host:8000/v1 → http://host:8000/metrics, for hosted_vllm deployments only.</summary>
    internal static string? MetricsUrl(Deployment deployment)
    {
        if (deployment.Provider != "hosted_vllm" || deployment.ApiBase is not { } apiBase)
        {
            return null;
        }

        var root = apiBase.EndsWith("/v1", StringComparison.OrdinalIgnoreCase) ? apiBase[..^3] : apiBase;
        return root + "/metrics";
    }

    private static partial class Log
    {
        [LoggerMessage(1401, LogLevel.Warning, "vLLM metrics at {Url} cannot be read ({Reason}); routing uses the gateway's own counts for it until they can")]
        public static partial void ScrapeFailing(ILogger logger, string url, string reason);

        [LoggerMessage(1402, LogLevel.Information, "vLLM metrics at {Url} are read again")]
        public static partial void ScrapeRecovered(ILogger logger, string url);
    }
}
