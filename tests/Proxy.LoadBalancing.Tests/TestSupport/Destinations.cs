using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Tests.TestSupport;

/// <summary>Builds deployments and the YARP destinations that carry them, the way the gateway does.</summary>
internal static class Destinations
{
    public static readonly ClusterState Cluster = new("route-placeholder");

    public static Deployment Deployment(
        string id,
        double? weight = null,
        int? rpm = null,
        int? tpm = null,
        int order = 0,
        double inputCost = 0,
        double outputCost = 0,
        int? maxParallel = null,
        int? maxInputTokens = null) => new()
        {
            Id = id,
            ModelGroup = "group",
            Provider = "hosted_vllm",
            UpstreamModel = "model",
            Timeout = TimeSpan.FromSeconds(600),
            StreamTimeout = TimeSpan.FromSeconds(600),
            Weight = weight,
            Rpm = rpm,
            Tpm = tpm,
            MaxParallelRequests = maxParallel,
            MaxInputTokens = maxInputTokens,
            Order = order,
            InputCostPerToken = inputCost,
            OutputCostPerToken = outputCost,
            Stats = new DeploymentStats(),
            EndpointUris = new Uri?[4],
        };

    public static DestinationState For(Deployment deployment) =>
        new(deployment.Id, new DestinationModel(new DestinationConfig { Address = "http://x", Metadata = new DeploymentMetadata(deployment, 1) }));

    public static DestinationState[] For(params Deployment[] deployments)
    {
        var result = new DestinationState[deployments.Length];
        for (var i = 0; i < deployments.Length; i++)
        {
            result[i] = For(deployments[i]);
        }

        return result;
    }

    /// <summary>A destination that is not one of ours (plain YARP metadata).</summary>
    public static DestinationState Plain(string id) =>
        new(id, new DestinationModel(new DestinationConfig { Address = "http://x", Metadata = new Dictionary<string, string> { ["k"] = "v" } }));

    public static HttpContext Context(int estimatedInputTokens = 0)
    {
        var context = new DefaultHttpContext();
        var request = new GatewayRequestContext { CallId = "call", StartTimestamp = 0 };
        request.Route("group", "group", stream: false, clientWantsUsage: false, estimatedInputTokens);
        context.Features.Set(request);
        return context;
    }
}
