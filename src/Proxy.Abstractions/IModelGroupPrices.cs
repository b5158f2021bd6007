namespace Proxy.Abstractions;

/// <summary>Prices of the model groups in the configuration in force, for checks that run before a deployment is picked.</summary>
public interface IModelGroupPrices
{
    /// <summary>
    /// Every deployment of the group costs nothing (input and output price 0, as self-hosted vLLM usually is): LiteLLM
    /// skips budget checks for such models.
    /// </summary>
    bool IsFree(string modelGroup);
}
