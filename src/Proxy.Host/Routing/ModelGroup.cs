namespace Proxy.Host.Routing;

/// <summary>One model_name: its YARP cluster and its deployments, in config order.</summary>
internal sealed class ModelGroup
{
    public required string Name { get; init; }

    public required string ClusterId { get; init; }

    public required IReadOnlyList<DeploymentRoute> Deployments { get; init; }

    /// <summary>Some deployment declares model_info.max_input_tokens, so pre-call checks need a real token count.</summary>
    public bool HasContextLimits { get; init; }
}
