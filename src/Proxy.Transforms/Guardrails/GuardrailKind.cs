namespace Proxy.Transforms.Guardrails;

/// <summary>The backends a guardrail can call (<c>litellm_params.guardrail</c>).</summary>
public enum GuardrailKind
{
    /// <summary>Any OpenAI-compatible <c>POST /v1/moderations</c> (OpenAI itself, the tutorial's Llama Guard wrapper).</summary>
    OpenAiModeration,

    /// <summary>Llama Guard 3 served by vLLM (or any OpenAI-compatible server), prompted with Meta's template.</summary>
    LlamaGuard,
}
