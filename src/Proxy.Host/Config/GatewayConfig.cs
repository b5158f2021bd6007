namespace Proxy.Host.Config;

/// <summary>A validated LiteLLM <c>config.yaml</c>: every section bound, every <c>os.environ/</c> resolved.</summary>
internal sealed record GatewayConfig
{
    public required string SourcePath { get; init; }

    public IReadOnlyList<DeploymentConfig> ModelList { get; init; } = [];

    public RouterSettings RouterSettings { get; init; } = new();

    public LitellmSettings LitellmSettings { get; init; } = new();

    public GeneralSettings GeneralSettings { get; init; } = new();

    public IReadOnlyDictionary<string, string> EnvironmentVariables { get; init; } = EmptyMap.Strings;

    public IReadOnlyList<GuardrailConfig> Guardrails { get; init; } = [];
}
