using Proxy.Abstractions;

namespace Proxy.Transforms.Guardrails;

/// <summary>One configured guardrail, resolved from the config (env values read, URLs checked).</summary>
public sealed record GuardrailDefinition
{
    public const double DefaultTimeoutSeconds = 10;

    public required string Name { get; init; }

    public required GuardrailKind Kind { get; init; }

    public required GuardrailModes Modes { get; init; }

    public bool DefaultOn { get; init; }

    /// <summary>Base URL of the backend; <c>/v1</c> is added unless it already ends with it.</summary>
    public required string ApiBase { get; init; }

    public Secret? ApiKey { get; init; }

    /// <summary>The model sent to the backend (moderation model, or the Llama Guard model vLLM serves).</summary>
    public string? Model { get; init; }

    /// <summary>The guard's own time limit per call; beyond it the call counts as a failure.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(DefaultTimeoutSeconds);

    /// <summary>
    /// <c>unreachable_fallback: fail_open</c>: a guard that is down, slow or answers nonsense lets the request through
    /// (logged and counted). Default (<c>fail_closed</c>): the request is refused with a 503.
    /// </summary>
    public bool FailOpen { get; init; }

    /// <summary>
    /// Llama Guard only: <c>chat</c> sends the conversation as messages and lets the server apply the model's chat
    /// template; the default sends Meta's prompt, built here, to <c>/completions</c>.
    /// </summary>
    public bool LlamaGuardChat { get; init; }

    /// <summary>
    /// post_call on streams: also check the text so far every this many content events (LiteLLM's
    /// <c>streaming_sampling_rate</c>); 0 checks only at the end, before <c>[DONE]</c>.
    /// </summary>
    public int StreamingSamplingRate { get; init; }

    /// <summary>Built from LiteLLM's legacy <c>callbacks: ["llamaguard_moderations"]</c>: blocks with its legacy message.</summary>
    public bool Legacy { get; init; }

    /// <summary>The URL a call goes to: <c>{api_base}/v1/{path}</c>, or <c>{api_base}/{path}</c> when api_base ends in /v1.</summary>
    public Uri UriFor(string path)
    {
        var trimmed = ApiBase.TrimEnd('/');
        return new Uri(trimmed.EndsWith("/v1", StringComparison.OrdinalIgnoreCase) ? trimmed + "/" + path : trimmed + "/v1/" + path);
    }
}
