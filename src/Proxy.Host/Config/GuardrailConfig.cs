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

    /// <summary>Seconds the guard may take per call (<c>timeout</c>); null for the default.</summary>
    public double? Timeout { get; init; }

    /// <summary><c>unreachable_fallback: fail_open</c> (LiteLLM's key for this): let requests through when the guard fails.</summary>
    public bool FailOpen { get; init; }

    /// <summary>Llama Guard only: <c>llama_guard_api: chat</c> sends messages (the server applies the chat template).</summary>
    public bool LlamaGuardChat { get; init; }

    /// <summary><c>streaming_sampling_rate</c> (post_call streams: check every N content events); null when absent.</summary>
    public int? StreamingSamplingRate { get; init; }

    /// <summary><c>streaming_end_of_stream_only</c>: true turns the sampled checks off.</summary>
    public bool StreamingEndOfStreamOnly { get; init; }

    /// <summary>Other litellm_params keys: scalar text, or compact JSON for lists and maps.</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = EmptyMap.Strings;

    public int Line { get; init; }
}
