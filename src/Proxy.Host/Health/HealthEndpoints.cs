using System.Text.Json;
using Proxy.Abstractions;
using Proxy.Host.Routing;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Proxy.Host.Health;

/// <summary>
/// <c>GET /health</c> (master key only: it names every deployment and its api_base) in LiteLLM's shape. With
/// background health checks on it reports YARP's active probe results and cooldowns; otherwise it probes every
/// deployment, coalesced (<see cref="HealthProbeRuns"/>).
/// </summary>
internal static class HealthEndpoints
{
    /// <summary>The HttpClient the probes use: stored models' hosts go through the internal-address guard.</summary>
    public const string ProbeClientName = nameof(HealthEndpoints);

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/health", WriteHealthAsync);
        return endpoints;
    }

    private static async Task WriteHealthAsync(
        HttpContext context, GatewayState state, IProxyStateLookup proxyState, HealthProbeRuns runs, IOpenAiErrorWriter errors, string? model)
    {
        if (GatewayRequestContext.Get(context) is not { IsMasterKey: true })
        {
            await errors.WriteAsync(context, new GatewayError(403, "auth_error",
                "Only the master key may call /health (it lists every deployment and its api_base)."));
            return;
        }

        var snapshot = state.Current;
        var results = new List<(DeploymentRoute Route, string? Error)>();
        var background = IsBackgroundCheckEnabled(snapshot);
        var toProbe = new List<DeploymentRoute>();
        foreach (var group in snapshot.Groups.Values.Distinct())
        {
            if (model is not null && !string.Equals(group.Name, model, StringComparison.Ordinal))
            {
                continue;
            }

            proxyState.TryGetCluster(group.ClusterId, out var cluster);
            foreach (var route in group.Deployments)
            {
                var destination = cluster?.Destinations.TryGetValue(route.Deployment.Id, out var d) == true ? d : null;
                if (destination?.Health.Passive == DestinationHealth.Unhealthy)
                {
                    results.Add((route, "deployment is cooling down after failures"));
                }
                else if (background)
                {
                    results.Add((route, destination?.Health.Active == DestinationHealth.Unhealthy ? "background health check failed" : null));
                }
                else
                {
                    toProbe.Add(route);
                }
            }
        }

        if (toProbe.Count > 0)
        {
            // Only names of configured groups get a run of their own; anything else probed nothing above.
            results.AddRange(await runs.ProbeAsync(snapshot, toProbe, model).WaitAsync(context.RequestAborted));
        }

        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        WriteEndpoints(json, "healthy_endpoints", results, healthy: true);
        WriteEndpoints(json, "unhealthy_endpoints", results, healthy: false);
        json.WriteNumber("healthy_count", results.Count(r => r.Error is null));
        json.WriteNumber("unhealthy_count", results.Count(r => r.Error is not null));
        json.WriteEndObject();
    }

    private static bool IsBackgroundCheckEnabled(GatewaySnapshot snapshot) =>
        snapshot.Config.GeneralSettings.BackgroundHealthChecks || snapshot.Config.RouterSettings.HealthCheckInterval is not null;

    private static void WriteEndpoints(Utf8JsonWriter json, string name, List<(DeploymentRoute Route, string? Error)> results, bool healthy)
    {
        json.WriteStartArray(name);
        foreach (var (route, error) in results)
        {
            if ((error is null) != healthy)
            {
                continue;
            }

            var deployment = route.Deployment;
            json.WriteStartObject();
            json.WriteString("model", string.IsNullOrEmpty(deployment.Provider) ? deployment.UpstreamModel : deployment.Provider + "/" + deployment.UpstreamModel);
            json.WriteString("model_group", deployment.ModelGroup);
            json.WriteString("model_id", deployment.Id);
            if (deployment.ApiBase is not null)
            {
                json.WriteString("api_base", deployment.ApiBase);
            }

            if (error is not null)
            {
                json.WriteString("error", error);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
    }
}
