using Proxy.Abstractions;

namespace Proxy.Host.Config;

/// <summary>One <c>guardrails</c> entry: <c>guardrail_name</c> plus its <c>litellm_params</c>.</summary>
internal sealed record GuardrailConfig
{
    public required string GuardrailName { get; init; }

    public required string Guardrail { get; init; }

    /// <summary><c>pre_call</c>, <c>post_call</c>, <c>during_call</c>…; YAML allows a string or a list.</summary>
    public IReadOnlyList<string> Mode { get; init; } = [];

    public bool DefaultOn { get; init; }

    public string? ApiBase { get; init; }

    public Secret? ApiKey { get; init; }

    public string? Model { get; init; }

    /// <summary>Other litellm_params keys: scalar text, or compact JSON for lists and maps.</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = EmptyMap.Strings;

    public int Line { get; init; }
}
