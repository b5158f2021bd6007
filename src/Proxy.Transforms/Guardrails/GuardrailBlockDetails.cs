using System.Text.Json;
using Proxy.Abstractions;

namespace Proxy.Transforms.Guardrails;

/// <summary>
/// The guardrail's verdict as JSON beside the LiteLLM message, so clients need not parse a Python dict:
/// <c>"guardrail": "name"</c> and, when there was a verdict, <c>"moderation_result": {"flagged", "violated_categories",
/// "category_scores", "llama_guard_categories"}</c>.
/// </summary>
internal sealed class GuardrailBlockDetails(string guardrail, ModerationResult? result) : IGatewayErrorDetails
{
    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteString("guardrail"u8, guardrail);
        if (result is null)
        {
            return;
        }

        writer.WriteStartObject("moderation_result"u8);
        writer.WriteBoolean("flagged"u8, result.Flagged);
        writer.WriteStartArray("violated_categories"u8);
        foreach (var (name, flagged) in result.Categories)
        {
            if (flagged)
            {
                writer.WriteStringValue(name);
            }
        }

        writer.WriteEndArray();
        writer.WriteStartObject("category_scores"u8);
        foreach (var (name, score) in result.CategoryScores)
        {
            writer.WriteNumber(name, score);
        }

        writer.WriteEndObject();
        if (result.LlamaGuardCodes.Count > 0)
        {
            writer.WriteStartArray("llama_guard_categories"u8);
            foreach (var code in result.LlamaGuardCodes)
            {
                writer.WriteStringValue(code);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }
}
