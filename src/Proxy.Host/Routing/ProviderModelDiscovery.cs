using System.Collections.Frozen;
using System.Text.Json;

namespace Proxy.Host.Routing;

/// <summary>
/// LiteLLM's <c>litellm_settings.check_provider_endpoint</c>: /v1/models lists what the upstreams of wildcard groups
/// actually serve, from their own <c>GET {api_base}/models</c>. Asked in the background (at start, when the config
/// changes, then every minute), never on the request path; /v1/models reads the last answer. An upstream that is down
/// keeps its last list. It asks through the probes' client, whose connect guard keeps stored models off internal addresses.
/// </summary>
internal sealed partial class ProviderModelDiscovery(GatewayState state, IHttpClientFactory clients, TimeProvider time, ILogger<ProviderModelDiscovery> logger)
    : BackgroundService
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ConfigCheckInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private volatile FrozenDictionary<string, string[]> _models = FrozenDictionary<string, string[]>.Empty;

    /// <summary>Wildcard group → the upstream model ids its deployments serve (deduplicated, in the order first seen).</summary>
    public FrozenDictionary<string, string[]> Models => _models;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var refreshedVersion = -1;
        var refreshedAt = long.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var snapshot = state.Current;
                var due = snapshot.Version != refreshedVersion || time.GetElapsedTime(refreshedAt) >= RefreshInterval;
                if (due && snapshot.Config.LitellmSettings.CheckProviderEndpoint && snapshot.Wildcards.Any)
                {
                    await RefreshAsync(snapshot, stoppingToken);
                }

                if (due)
                {
                    refreshedVersion = snapshot.Version;
                    refreshedAt = time.GetTimestamp();
                }

                await Task.Delay(ConfigCheckInterval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    internal async Task RefreshAsync(GatewaySnapshot snapshot, CancellationToken cancellationToken)
    {
        var previous = _models;
        var next = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var group in snapshot.Wildcards.Groups)
        {
            var ids = new List<string>();
            var anyAnswered = false;
            foreach (var route in group.Deployments)
            {
                var listed = await ListAsync(route.Deployment, cancellationToken);
                if (listed is null)
                {
                    continue;
                }

                anyAnswered = true;
                foreach (var id in listed)
                {
                    if (!ids.Contains(id))
                    {
                        ids.Add(id);
                    }
                }
            }

            if (anyAnswered)
            {
                next[group.Name] = [.. ids];
            }
            else if (previous.TryGetValue(group.Name, out var kept))
            {
                next[group.Name] = kept;
            }
        }

        _models = next.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private async Task<List<string>?> ListAsync(Abstractions.Deployment deployment, CancellationToken cancellationToken)
    {
        if (deployment.ApiBase is null)
        {
            return null;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, deployment.ApiBase + "/models");
            if (deployment.AuthorizationHeader is not null)
            {
                request.Headers.TryAddWithoutValidation(deployment.AuthHeaderName, deployment.AuthorizationHeader);
            }

            using var response = await clients.CreateClient(Health.HealthEndpoints.ProbeClientName).SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                Log.ListFailed(logger, deployment.Id, $"HTTP {(int)response.StatusCode}");
                return null;
            }

            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            using var document = await JsonDocument.ParseAsync(body, default, timeout.Token);
            var ids = new List<string>();
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array)
            {
                foreach (var model in data.EnumerateArray())
                {
                    if (model.ValueKind == JsonValueKind.Object && model.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
                    {
                        ids.Add(id.GetString()!);
                    }
                }
            }

            return ids;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Log.ListFailed(logger, deployment.Id, ex.Message);
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1401, LogLevel.Warning, "Could not list the models of deployment {DeploymentId} (check_provider_endpoint); keeping its last list: {Reason}")]
        public static partial void ListFailed(ILogger logger, string deploymentId, string reason);
    }
}
