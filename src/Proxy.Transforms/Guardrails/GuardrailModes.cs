namespace Proxy.Transforms.Guardrails;

/// <summary>When a guardrail runs (LiteLLM's <c>mode</c>; a guardrail may have several).</summary>
[Flags]
public enum GuardrailModes
{
    None = 0,

    /// <summary>On the input, before the model is called; a flagged input never reaches the model.</summary>
    PreCall = 1,

    /// <summary>On the input, beside the model call; the answer is released only when the check passed.</summary>
    DuringCall = 2,

    /// <summary>On the model's answer, before it is released (streams: at their end, before <c>[DONE]</c>).</summary>
    PostCall = 4,
}
