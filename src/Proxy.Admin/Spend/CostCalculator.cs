namespace Proxy.Admin.Spend;

/// <summary>LiteLLM's response_cost: prompt tokens × input price + completion tokens × output price; 0 for a cache hit.</summary>
internal static class CostCalculator
{
    /// <summary>Null when the price or the usage is unknown (no deployment answered, or no usage came back).</summary>
    public static double? Compute(GatewayRequestContext request)
    {
        if (request.CacheHit)
        {
            return 0;
        }

        if (request.Deployment is not { } deployment || request.PromptTokens is not { } prompt)
        {
            return null;
        }

        // The deployment's prices already fall back from litellm_params to model_info (SnapshotBuilder).
        return (prompt * deployment.InputCostPerToken) + ((request.CompletionTokens ?? 0) * deployment.OutputCostPerToken);
    }
}
