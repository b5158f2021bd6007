using System.Collections.Frozen;
using System.Net;
using System.Text.Json;
using Proxy.Abstractions;
using Proxy.Host.Auth;
using Proxy.Host.Config;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Proxy.Host.Routing;

/// <summary>Turns a parsed LiteLLM config into a <see cref="GatewaySnapshot"/>: one YARP cluster per model group,
/// one destination per deployment, and one route per OpenAI path (the body's model picks the cluster).</summary>
internal static class SnapshotBuilder
{
    private static readonly Dictionary<string, string> GuardedClusterMetadata =
        new() { [Security.GuardedForwarderHttpClientFactory.GuardMetadataKey] = "true" };

    /// <summary>Routes point here; the gateway middleware reassigns each request to its model group's cluster.</summary>
    public const string UnroutedClusterId = "__gateway_unrouted";

    public const string EndpointMetadataKey = "gateway.endpoint";

    public const long DefaultMaxRequestBodyBytes = 32L * 1024 * 1024;

    // A mock-only deployment has no upstream, but YARP wants an absolute address for every destination.
    private const string MockAddress = "http://mock.invalid/";

    private static readonly (OpenAiEndpoint Endpoint, string Suffix)[] Paths =
    [
        (OpenAiEndpoint.ChatCompletions, "chat/completions"),
        (OpenAiEndpoint.Completions, "completions"),
        (OpenAiEndpoint.Embeddings, "embeddings"),
        (OpenAiEndpoint.Moderations, "moderations"),
    ];

    private static readonly (OpenAiEndpoint Endpoint, string Method, string Path)[] ResponsesPaths =
    [
        (OpenAiEndpoint.Responses, "POST", "/responses"),
        (OpenAiEndpoint.ResponsesRetrieve, "GET", "/responses/{response_id}"),
        (OpenAiEndpoint.ResponsesDelete, "DELETE", "/responses/{response_id}"),
        (OpenAiEndpoint.ResponsesCancel, "POST", "/responses/{response_id}/cancel"),
        (OpenAiEndpoint.ResponsesInputItems, "GET", "/responses/{response_id}/input_items"),
    ];

    private static readonly (OpenAiEndpoint Endpoint, string Path)[] AnthropicPaths =
    [
        (OpenAiEndpoint.AnthropicMessages, "/v1/messages"),
        (OpenAiEndpoint.AnthropicMessages, "/messages"),
        (OpenAiEndpoint.AnthropicCountTokens, "/v1/messages/count_tokens"),
        (OpenAiEndpoint.AnthropicCountTokens, "/messages/count_tokens"),
    ];

    /// <summary>The routes never change with the config, so their endpoint kinds are computed once.</summary>
    public static FrozenDictionary<string, OpenAiEndpoint> EndpointByRouteId { get; } =
        BuildRoutes().ToFrozenDictionary(r => r.RouteId, r => Enum.Parse<OpenAiEndpoint>(r.Metadata![EndpointMetadataKey]), StringComparer.Ordinal);

    /// <summary>Checks what only translation can see (URLs YARP and HttpClient will accept); every problem is reported.</summary>
    public static IReadOnlyList<string> Validate(GatewayConfig config)
    {
        var errors = new List<string>();
        foreach (var entry in config.ModelList)
        {
            var apiBase = entry.LitellmParams.ApiBase;
            if (apiBase is null)
            {
                continue;
            }

            if (!Uri.TryCreate(apiBase, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                errors.Add($"{config.SourcePath}:{entry.Line}: model_list[{entry.Index}].litellm_params.api_base: '{apiBase}' is not an absolute http(s) URL");
            }
        }

        return errors;
    }

    public static GatewaySnapshot Build(GatewayConfig config, int version, DateTimeOffset now, Secret? masterKeyOverride, GatewaySnapshot? previous = null)
    {
        var deployments = new Dictionary<string, DeploymentRoute>(StringComparer.Ordinal);
        var groups = new Dictionary<string, List<DeploymentRoute>>(StringComparer.Ordinal);
        var groupOrder = new List<string>();
        var groupsWithStored = new HashSet<string>(StringComparer.Ordinal);
        var configFileUpstreams = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in config.ModelList)
        {
            if (entry.IsStored)
            {
                groupsWithStored.Add(entry.ModelName);
            }
            else if (entry.LitellmParams.ApiBase is { } configured && Uri.TryCreate(configured, UriKind.Absolute, out var upstream))
            {
                configFileUpstreams.Add(Security.UpstreamConnectGuard.Authority(upstream.IdnHost, upstream.Port));
            }

            var route = BuildDeployment(entry, config, previous);
            // Two entries with identical params get the same LiteLLM id; keep both by making the second unique.
            var id = route.Deployment.Id;
            for (var n = 2; deployments.ContainsKey(id); n++)
            {
                id = $"{route.Deployment.Id}-{n}";
            }

            if (id != route.Deployment.Id)
            {
                route = Rename(route, id);
            }

            deployments.Add(id, route);
            if (!groups.TryGetValue(entry.ModelName, out var list))
            {
                list = [];
                groups.Add(entry.ModelName, list);
                groupOrder.Add(entry.ModelName);
            }

            list.Add(route);
        }

        var router = RouterOptionsBuilder.Build(config);
        // LiteLLM probes in the background with general_settings.background_health_checks; the tutorial sets
        // router_settings.health_check_interval, which we take as asking for the same.
        var probeInterval = config.RouterSettings.HealthCheckInterval
            ?? (config.GeneralSettings.BackgroundHealthChecks ? config.GeneralSettings.HealthCheckInterval : null);
        var modelGroups = new Dictionary<string, ModelGroup>(StringComparer.Ordinal);
        var clusters = new List<ClusterConfig> { new() { ClusterId = UnroutedClusterId } };
        foreach (var name in groupOrder)
        {
            var group = new ModelGroup
            {
                Name = name,
                ClusterId = "group:" + name,
                Deployments = groups[name],
                HasContextLimits = groups[name].Any(d => d.Deployment.MaxInputTokens is not null),
            };
            modelGroups.Add(name, group);
            var guardConnect = groupsWithStored.Contains(name) && !config.GeneralSettings.StoredModelAllowPrivateApiBase;
            clusters.Add(BuildCluster(group, version, router, probeInterval, guardConnect));
        }

        var visible = new List<string>(groupOrder);
        foreach (var (alias, target) in config.RouterSettings.ModelGroupAlias)
        {
            if (modelGroups.TryGetValue(target.Model, out var group) && !modelGroups.ContainsKey(alias))
            {
                modelGroups.Add(alias, group);
                if (!target.Hidden)
                {
                    visible.Add(alias);
                }
            }
        }

        var maxMb = config.GeneralSettings.MaxRequestSizeMb;
        return new GatewaySnapshot
        {
            Version = version,
            LoadedAt = now,
            Config = config,
            Groups = modelGroups.ToFrozenDictionary(StringComparer.Ordinal),
            Deployments = deployments.ToFrozenDictionary(StringComparer.Ordinal),
            ModelsListJson = BuildModelsList(visible),
            VisibleGroupNames = visible,
            AvailableGroupsText = visible.Count == 0 ? "(none configured)" : string.Join(", ", visible.Take(50)),
            MasterKey = MasterKey.From(masterKeyOverride ?? config.GeneralSettings.MasterKey),
            Router = router,
            MaxRequestBodyBytes = maxMb > 0 ? (long)(maxMb * 1024 * 1024) : DefaultMaxRequestBodyBytes,
            Routes = BuildRoutes(),
            Clusters = clusters,
            ConfigFileUpstreams = configFileUpstreams.ToFrozenSet(StringComparer.Ordinal),
        };
    }

    private static DeploymentRoute BuildDeployment(DeploymentConfig entry, GatewayConfig config, GatewaySnapshot? previous)
    {
        var p = entry.LitellmParams;
        var timeout = Seconds(p.Timeout ?? config.RouterSettings.Timeout ?? config.LitellmSettings.RequestTimeout);
        var streamTimeout = Seconds(p.StreamTimeout ?? config.RouterSettings.StreamTimeout ?? p.Timeout ?? config.RouterSettings.Timeout
            ?? config.LitellmSettings.RequestTimeout);
        var apiBase = p.ApiBase?.TrimEnd('/');
        var servesMessages = p.Provider == "anthropic" || p.DisableAnthropicTranslation;
        // vLLM and OpenAI serve the Responses API; a deployment can say it does not (LiteLLM's model_info flag).
        var servesResponses = p.Provider is "hosted_vllm" or "openai" or ""
            && !(entry.ModelInfo.Extra.TryGetValue("supports_responses_api", out var supports) && supports.Equals("false", StringComparison.OrdinalIgnoreCase));
        var uris = ProviderEndpoints.Build(p.Provider, apiBase, p.UpstreamModel, p.ApiVersion, servesMessages, servesResponses);
        var auth = ProviderEndpoints.Auth(p.Provider, apiBase, p.ApiKey);
        var deployment = new Deployment
        {
            Id = entry.Id,
            ModelGroup = entry.ModelName,
            Provider = p.Provider,
            UpstreamModel = p.UpstreamModel,
            ApiBase = apiBase,
            ApiKey = p.ApiKey,
            AuthorizationHeader = auth?.Value,
            AuthHeaderName = auth?.Name ?? "Authorization",
            Api = ProviderEndpoints.ApiOf(p.Provider),
            ServesAnthropicMessages = servesMessages && apiBase is not null,
            ServesResponses = servesResponses && apiBase is not null,
            MockResponse = p.MockResponse,
            ForwardClientHeaders = ForwardsClientHeaders(entry.ModelName, config),
            ClientKeyHeader = config.GeneralSettings.LitellmKeyHeaderName,
            Timeout = timeout,
            StreamTimeout = streamTimeout,
            Weight = p.Weight,
            Rpm = p.Rpm,
            Tpm = p.Tpm,
            MaxParallelRequests = p.MaxParallelRequests,
            Order = p.Order ?? 0,
            InputCostPerToken = p.InputCostPerToken ?? entry.ModelInfo.InputCostPerToken ?? 0,
            OutputCostPerToken = p.OutputCostPerToken ?? entry.ModelInfo.OutputCostPerToken ?? 0,
            MaxInputTokens = entry.ModelInfo.MaxInputTokens,
            RegionName = p.RegionName,
            CooldownTime = p.CooldownTime,
            EndpointUris = uris,
            // Counters survive a reload, so routing does not forget load and latency when the file changes.
            Stats = previous is not null && previous.Deployments.TryGetValue(entry.Id, out var old) ? old.Deployment.Stats : new DeploymentStats(),
        };
        return new DeploymentRoute
        {
            Deployment = deployment,
            RequestConfig = RequestConfig(timeout),
            StreamRequestConfig = RequestConfig(streamTimeout),
        };
    }

    private static DeploymentRoute Rename(DeploymentRoute route, string id) => new()
    {
        Deployment = route.Deployment with { Id = id },
        RequestConfig = route.RequestConfig,
        StreamRequestConfig = route.StreamRequestConfig,
    };

    private static bool ForwardsClientHeaders(string group, GatewayConfig config)
    {
        if (config.GeneralSettings.ForwardClientHeadersToLlmApi)
        {
            return true;
        }

        foreach (var pattern in config.LitellmSettings.ForwardClientHeadersGroups)
        {
            var matches = pattern.EndsWith('*')
                ? group.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal)
                : string.Equals(pattern, group, StringComparison.Ordinal);
            if (matches)
            {
                return true;
            }
        }

        return false;
    }

    private static TimeSpan Seconds(double seconds) =>
        seconds > 0 && seconds < TimeSpan.MaxValue.TotalSeconds / 2 ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromSeconds(6000);

    // ActivityTimeout is an idle timeout between reads, which is what LiteLLM's (httpx's) timeout means too.
    private static ForwarderRequestConfig RequestConfig(TimeSpan timeout) => new()
    {
        ActivityTimeout = timeout,
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
    };

    private static ClusterConfig BuildCluster(ModelGroup group, int version, RouterOptions router, double? probeInterval, bool guardConnect)
    {
        var destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal);
        foreach (var route in group.Deployments)
        {
            destinations.Add(route.Deployment.Id, new DestinationConfig
            {
                Address = route.Deployment.ApiBase ?? MockAddress,
                Metadata = new DeploymentMetadata(route.Deployment, version),
                Health = Health.DeploymentProbe.UriFor(route.Deployment)?.ToString(),
            });
        }

        return new ClusterConfig
        {
            ClusterId = group.ClusterId,
            LoadBalancingPolicy = router.RoutingStrategy,
            HealthCheck = new HealthCheckConfig
            {
                // Cooldown is YARP passive health: a cooled-down destination leaves the available set and YARP
                // brings it back when the cooldown period (the reactivation period it is given) ends.
                Passive = new PassiveHealthCheckConfig { Enabled = true, Policy = Proxy.LoadBalancing.Policies.PolicyNames.Cooldown },
                AvailableDestinationsPolicy = Yarp.ReverseProxy.Health.HealthCheckConstants.AvailableDestinations.HealthyAndUnknown,
                Active = ActiveHealthCheck(group, probeInterval),
            },
            Destinations = destinations,
            // A group with a model stored through the admin API connects through the internal-address guard.
            Metadata = guardConnect ? GuardedClusterMetadata : null,
            HttpClient = new HttpClientConfig { EnableMultipleHttp2Connections = true },
            HttpRequest = RequestConfig(group.Deployments.Count > 0 ? group.Deployments[0].Deployment.Timeout : TimeSpan.FromSeconds(6000)),
        };
    }

    private static ActiveHealthCheckConfig? ActiveHealthCheck(ModelGroup group, double? interval)
    {
        // A mock-only deployment has nothing to probe; probing its placeholder address would take it out of rotation.
        if (interval is not > 0 || group.Deployments.Any(d => d.Deployment.ApiBase is null))
        {
            return null;
        }

        return new ActiveHealthCheckConfig
        {
            Enabled = true,
            Interval = TimeSpan.FromSeconds(interval.Value),
            // Generous: a slow probe on a busy machine must not take a healthy deployment out of rotation.
            Timeout = TimeSpan.FromSeconds(10),
            Policy = Yarp.ReverseProxy.Health.HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
        };
    }

    private static List<RouteConfig> BuildRoutes()
    {
        var routes = new List<RouteConfig>();
        foreach (var (endpoint, suffix) in Paths)
        {
            string[] patterns = ["/v1/" + suffix, "/" + suffix, "/engines/{model}/" + suffix, "/openai/deployments/{model}/" + suffix];
            for (var i = 0; i < patterns.Length; i++)
            {
                routes.Add(new RouteConfig
                {
                    RouteId = $"{suffix}#{i}",
                    ClusterId = UnroutedClusterId,
                    Match = new RouteMatch { Path = patterns[i], Methods = ["POST"] },
                    Metadata = new Dictionary<string, string> { [EndpointMetadataKey] = endpoint.ToString() },
                });
            }
        }

        // Anthropic's Messages API, with and without /v1 as LiteLLM serves it (query strings such as ?beta=true do not matter).
        foreach (var (endpoint, path) in AnthropicPaths)
        {
            routes.Add(new RouteConfig
            {
                RouteId = path,
                ClusterId = UnroutedClusterId,
                Match = new RouteMatch { Path = path, Methods = ["POST"] },
                Metadata = new Dictionary<string, string> { [EndpointMetadataKey] = endpoint.ToString() },
            });
        }

        // OpenAI's Responses API: create, and the operations on a stored response (its id names the deployment).
        foreach (var (endpoint, method, path) in ResponsesPaths)
        {
            foreach (var prefix in (string[])["/v1", ""])
            {
                routes.Add(new RouteConfig
                {
                    RouteId = $"{method} {prefix}{path}",
                    ClusterId = UnroutedClusterId,
                    Match = new RouteMatch { Path = prefix + path, Methods = [method] },
                    Metadata = new Dictionary<string, string> { [EndpointMetadataKey] = endpoint.ToString() },
                });
            }
        }

        return routes;
    }

    /// <summary>One entry of /v1/models; LiteLLM reports this fixed timestamp and owner for every group.</summary>
    internal static void WriteModelEntry(Utf8JsonWriter json, string name)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, name);
        json.WriteString("object"u8, "model"u8);
        json.WriteNumber("created"u8, 1677610602);
        json.WriteString("owned_by"u8, "openai"u8);
        json.WriteEndObject();
    }

    private static byte[] BuildModelsList(List<string> names)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("object"u8, "list"u8);
            json.WriteStartArray("data"u8);
            foreach (var name in names)
            {
                WriteModelEntry(json, name);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

}
