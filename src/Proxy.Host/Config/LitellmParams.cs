using Proxy.Abstractions;

namespace Proxy.Host.Config;

/// <summary><c>model_list[].litellm_params</c>.</summary>
internal sealed record LitellmParams
{
    /// <summary>The model as written, e.g. <c>hosted_vllm/qwen3</c>.</summary>
    public required string Model { get; init; }

    /// <summary><c>hosted_vllm</c>, <c>openai</c>, <c>anthropic</c>, <c>azure</c>, <c>azure_ai</c>, or empty for a bare OpenAI-compatible name.</summary>
    public required string Provider { get; init; }

    /// <summary>The model name sent upstream (without the provider prefix).</summary>
    public required string UpstreamModel { get; init; }

    public string? ApiBase { get; init; }

    public Secret? ApiKey { get; init; }

    public string? ApiVersion { get; init; }

    public double? Timeout { get; init; }

    public double? StreamTimeout { get; init; }

    public int? Rpm { get; init; }

    public int? Tpm { get; init; }

    public double? Weight { get; init; }

    public int? Order { get; init; }

    public double? InputCostPerToken { get; init; }

    public double? OutputCostPerToken { get; init; }

    public string? MockResponse { get; init; }

    public int? MaxParallelRequests { get; init; }

    public int? MaxRetries { get; init; }

    public double? CooldownTime { get; init; }

    public string? RegionName { get; init; }

    public bool? DropParams { get; init; }

    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>
    /// LiteLLM's <c>disable_anthropic_translation</c> (or env <c>DISABLE_HOSTED_VLLM_ANTHROPIC_TRANSLATION</c> for
    /// hosted_vllm): the server speaks <c>/v1/messages</c> itself (vLLM 0.12 and later), so Messages requests pass through.
    /// </summary>
    public bool DisableAnthropicTranslation { get; init; }
}
