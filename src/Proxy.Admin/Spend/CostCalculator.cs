namespace Proxy.Admin.Spend;

/// <summary>
/// LiteLLM's response_cost: prompt tokens × input price + completion tokens × output price; 0 for a cache hit. Rerank
/// priced per query costs input_cost_per_query × search units, and audio priced per second input_cost_per_second ×
/// its seconds, as LiteLLM's rerank and transcription cost calculators do; otherwise tokens are what is billed.
/// </summary>
internal static class CostCalculator
{
    /// <summary>Null when the price or the usage is unknown (no deployment answered, or no usage came back).</summary>
    public static double? Compute(RequestOutcome outcome) => Compute(outcome, outcome.Deployment);

    /// <param name="deployment">The deployment that answered; the outcome names it only once the router is done.</param>
    public static double? Compute(RequestOutcome outcome, Deployment? deployment)
    {
        if (outcome.CacheHit)
        {
            return 0;
        }

        if (deployment is null)
        {
            return null;
        }

        if (outcome.SearchUnits is { } units && deployment.InputCostPerQuery > 0)
        {
            return units * deployment.InputCostPerQuery;
        }

        if (outcome.AudioSeconds is { } seconds && deployment.InputCostPerSecond > 0)
        {
            return seconds * deployment.InputCostPerSecond;
        }

        if (outcome.PromptTokens is not { } prompt)
        {
            return null;
        }

        // The deployment's prices already fall back from litellm_params to model_info (SnapshotBuilder).
        return (prompt * deployment.InputCostPerToken) + ((outcome.CompletionTokens ?? 0) * deployment.OutputCostPerToken);
    }
}
