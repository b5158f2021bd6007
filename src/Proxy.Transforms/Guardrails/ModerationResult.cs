namespace Proxy.Transforms.Guardrails;

/// <summary>A backend's verdict on one text, in OpenAI moderation terms, in the order the backend gave its categories.</summary>
public sealed class ModerationResult
{
    public required bool Flagged { get; init; }

    public required IReadOnlyList<KeyValuePair<string, bool>> Categories { get; init; }

    public required IReadOnlyList<KeyValuePair<string, double>> CategoryScores { get; init; }

    /// <summary>Llama Guard's own codes (S1 ... S14) when it was the judge.</summary>
    public IReadOnlyList<string> LlamaGuardCodes { get; init; } = [];

    public List<string> ViolatedCategories()
    {
        var violated = new List<string>();
        foreach (var (name, flagged) in Categories)
        {
            if (flagged)
            {
                violated.Add(name);
            }
        }

        return violated;
    }
}
