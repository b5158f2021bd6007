using System.Collections.Frozen;
using Proxy.Transforms.Guardrails;

namespace Proxy.Host.Guardrails;

/// <summary>The <c>litellm_params.guardrail</c> and <c>mode</c> spellings the gateway understands.</summary>
internal static class GuardrailTypes
{
    // LiteLLM's enum says openai_moderation; the legacy callbacks said openai_moderations / llamaguard_moderations.
    private static readonly FrozenDictionary<string, GuardrailKind> Kinds = new Dictionary<string, GuardrailKind>(StringComparer.OrdinalIgnoreCase)
    {
        ["openai_moderation"] = GuardrailKind.OpenAiModeration,
        ["openai_moderations"] = GuardrailKind.OpenAiModeration,
        ["openai-moderation"] = GuardrailKind.OpenAiModeration,
        ["openai/moderation"] = GuardrailKind.OpenAiModeration,
        ["llama_guard"] = GuardrailKind.LlamaGuard,
        ["llamaguard"] = GuardrailKind.LlamaGuard,
        ["llama-guard"] = GuardrailKind.LlamaGuard,
        ["llama_guard_3"] = GuardrailKind.LlamaGuard,
        ["llamaguard_moderations"] = GuardrailKind.LlamaGuard,
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    public static GuardrailKind? KindOf(string guardrail) => Kinds.TryGetValue(guardrail.Trim(), out var kind) ? kind : null;

    /// <summary>A mode's flag; None for <c>logging_only</c> and modes that do not block (nothing to do here).</summary>
    public static GuardrailModes? ModeOf(string mode) => mode.Trim().ToLowerInvariant() switch
    {
        "pre_call" or "pre-call" => GuardrailModes.PreCall,
        "during_call" or "during-call" or "moderation" => GuardrailModes.DuringCall,
        "post_call" or "post-call" => GuardrailModes.PostCall,
        "logging_only" => GuardrailModes.None,
        _ => null,
    };
}
