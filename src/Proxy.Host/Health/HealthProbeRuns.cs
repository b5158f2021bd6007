using Proxy.Host.Routing;

namespace Proxy.Host.Health;

/// <summary>
/// On-demand <c>GET /health</c> probes, coalesced: one run per config version and <c>model</c> filter is in flight at a
/// time, and its results answer every caller for <see cref="Fresh"/> after it ends, so repeated calls cannot turn the
/// gateway into a load generator against its own deployments. A run is bounded by the probe timeout, not by the caller
/// that started it (a caller that leaves does not cancel it for the others). Failures are described by their kind,
/// never by exception text (which can carry internal addresses and resolver output).
/// </summary>
internal sealed class HealthProbeRuns(IHttpClientFactory clients, TimeProvider time)
{
    public static readonly TimeSpan Fresh = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Run> _runs = new(StringComparer.Ordinal);
    private int _version;

    public Task<(DeploymentRoute Route, string? Error)[]> ProbeAsync(GatewaySnapshot snapshot, IReadOnlyList<DeploymentRoute> routes, string? model)
    {
        var now = time.GetTimestamp();
        lock (_gate)
        {
            if (_version != snapshot.Version)
            {
                // Runs of an older config probe deployments that may be gone.
                _runs.Clear();
                _version = snapshot.Version;
            }

            var key = model ?? string.Empty;
            if (_runs.TryGetValue(key, out var run) && (!run.Task.IsCompleted || time.GetElapsedTime(run.Finished, now) < Fresh))
            {
                return run.Task;
            }

            var started = new Run();
            started.Task = RunAsync(routes, started);
            _runs[key] = started;
            return started.Task;
        }
    }

    private async Task<(DeploymentRoute, string?)[]> RunAsync(IReadOnlyList<DeploymentRoute> routes, Run run)
    {
        var probes = new Task<(DeploymentRoute, string?)>[routes.Count];
        for (var i = 0; i < routes.Count; i++)
        {
            probes[i] = ProbeOneAsync(routes[i]);
        }

        var results = await Task.WhenAll(probes);
        run.Finished = time.GetTimestamp();
        return results;
    }

    private async Task<(DeploymentRoute, string?)> ProbeOneAsync(DeploymentRoute route)
    {
        var deployment = route.Deployment;
        if (deployment.MockResponse is not null && deployment.ApiBase is null)
        {
            return (route, null);
        }

        var uri = DeploymentProbe.UriFor(deployment);
        if (uri is null)
        {
            return (route, "no api_base to probe");
        }

        using var timeout = new CancellationTokenSource(ProbeTimeout, time);
        try
        {
            using var request = DeploymentProbe.CreateRequest(deployment, uri);
            using var response = await clients.CreateClient(HealthEndpoints.ProbeClientName).SendAsync(request, timeout.Token);
            return (route, response.IsSuccessStatusCode ? null : $"health check answered HTTP {(int)response.StatusCode}");
        }
        catch (OperationCanceledException)
        {
            return (route, $"health check timed out after {ProbeTimeout.TotalSeconds} s");
        }
        catch (HttpRequestException ex)
        {
            return (route, ex.HttpRequestError == HttpRequestError.Unknown
                ? "health check failed: the deployment could not be reached"
                : $"health check failed: {ex.HttpRequestError}");
        }
    }

    private sealed class Run
    {
        public Task<(DeploymentRoute, string?)[]> Task { get; set; } = null!;

        public long Finished { get; set; }
    }
}
