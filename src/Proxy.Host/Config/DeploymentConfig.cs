namespace Proxy.Host.Config;

/// <summary>One <c>model_list</c> entry; entries sharing <see cref="ModelName"/> form a model group.</summary>
internal sealed record DeploymentConfig
{
    /// <summary>Position in <c>model_list</c> (0-based), as used in diagnostics paths.</summary>
    public int Index { get; init; }

    public required string ModelName { get; init; }

    /// <summary><c>model_info.id</c>, or LiteLLM's default: sha256 of model_name and the raw litellm_params.</summary>
    public required string Id { get; init; }

    public required LitellmParams LitellmParams { get; init; }

    public ModelInfoConfig ModelInfo { get; init; } = new();

    /// <summary>1-based line of the entry in the source file.</summary>
    public int Line { get; init; }

    /// <summary>Added through the admin API (STORE_MODEL_IN_DB), not written in the config file.</summary>
    public bool IsStored { get; init; }
}
