using System.Text;
using Proxy.Abstractions;

namespace Proxy.Transforms.Guardrails;

/// <summary>The errors a guardrail answers with.</summary>
public static class GuardrailErrors
{
    /// <summary>
    /// LiteLLM's openai_moderation guardrail raises <c>HTTPException(400, detail={...})</c> and the proxy renders the dict
    /// with Python's <c>str()</c> and the literal strings "None" for type and param; the tutorial shows exactly that body.
    /// The verdict is also written as JSON members beside it (<see cref="GuardrailBlockDetails"/>).
    /// </summary>
    public static GatewayError Blocked(GuardrailDefinition guardrail, ModerationResult result) =>
        new(400, "None", guardrail.Legacy ? LegacyMessage : Message(result), "None")
        {
            Details = new GuardrailBlockDetails(guardrail.Name, result),
        };

    /// <summary>The guard could not give a verdict and the guardrail fails closed: the request is not served.</summary>
    public static GatewayError Unavailable(GuardrailDefinition guardrail, string reason) =>
        new(503, "service_unavailable",
            $"litellm.ServiceUnavailableError: Guardrail '{guardrail.Name}' could not check this request ({reason}), so it was not served (the guardrail fails closed). Retry later, or set unreachable_fallback: fail_open on the guardrail to let requests through while its backend is down.")
        {
            Details = new GuardrailBlockDetails(guardrail.Name, null),
        };

    /// <summary>The body could not be read to find what to judge: refused rather than let through unjudged.</summary>
    public static GatewayError Unreadable(string reason) =>
        new(400, "invalid_request_error",
            $"The request could not be checked by its guardrails because its body could not be read ({reason}); it was not served. Send valid JSON with valid Unicode strings.");

    /// <summary>The request carries prompt content a text guardrail cannot judge.</summary>
    public static GatewayError Unjudgeable(GuardrailDefinition guardrail) =>
        new(400, "invalid_request_error",
            $"Guardrail '{guardrail.Name}' judges text, and this request carries prompt content without text (token ids, prompt_embeds, or content parts with no text part), so it was not served. Send the prompt as text.")
        {
            Details = new GuardrailBlockDetails(guardrail.Name, null),
        };

    // LiteLLM's legacy llamaguard_moderations callback: HTTPException(400, detail={"error": "Violated content safety policy"}).
    private const string LegacyMessage = "{'error': 'Violated content safety policy'}";

    internal static string Message(ModerationResult result)
    {
        var text = new StringBuilder(512);
        text.Append("{'error': 'Violated OpenAI moderation policy', 'moderation_result': {'violated_categories': [");
        var first = true;
        foreach (var (name, flagged) in result.Categories)
        {
            if (!flagged)
            {
                continue;
            }

            if (!first)
            {
                text.Append(", ");
            }

            first = false;
            text.AppendString(name);
        }

        text.Append("], 'category_scores': {");
        first = true;
        foreach (var (name, score) in result.CategoryScores)
        {
            if (!first)
            {
                text.Append(", ");
            }

            first = false;
            text.AppendString(name).Append(": ").AppendFloat(score);
        }

        return text.Append("}}}").ToString();
    }
}
