namespace Proxy.Host.Config;

/// <summary><c>model_list[].model_info</c>; keys we do not model are kept in <see cref="Extra"/>, as LiteLLM does.</summary>
internal sealed record ModelInfoConfig
{
    public string? Id { get; init; }

    public string? Mode { get; init; }

    public int? MaxTokens { get; init; }

    public int? MaxInputTokens { get; init; }

    public int? MaxOutputTokens { get; init; }

    public double? InputCostPerToken { get; init; }

    public double? OutputCostPerToken { get; init; }

    public double? InputCostPerQuery { get; init; }

    public double? InputCostPerSecond { get; init; }

    public string? BaseModel { get; init; }

    /// <summary>Other keys: scalar text, or compact JSON for lists and maps.</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = EmptyMap.Strings;
}
