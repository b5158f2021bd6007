namespace Proxy.Admin.Spend;

/// <summary>LiteLLM's response_cost: prompt tokens × input price + completion tokens × output price; 0 for a cache hit.</summary>
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

        if (deployment is null || outcome.PromptTokens is not { } prompt)
        {
            return null;
        }

        // The deployment's prices already fall back from litellm_params to model_info (SnapshotBuilder).
        return (prompt * deployment.InputCostPerToken) + ((outcome.CompletionTokens ?? 0) * deployment.OutputCostPerToken);
    }
}
