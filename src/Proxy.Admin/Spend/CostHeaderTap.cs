using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Proxy.Admin.Spend;

/// <summary>
/// Holds a non-streamed answer until its usage is known so that <c>x-litellm-response-cost</c> can go in its
/// headers, as LiteLLM sends it. Streams are never held; their cost is in the spend log only.
/// </summary>
internal sealed class CostHeaderTap(HttpContext context, GatewayRequestContext request) : IResponseTap
{
    public const string ResponseCostHeader = "x-litellm-response-cost";

    public bool HoldsBody => true;

    public ValueTask<GatewayError?> OnDataAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => default;

    public ValueTask<GatewayError?> OnCompletedAsync(CancellationToken cancellationToken)
    {
        // The router has not finished the outcome yet: the answering deployment is the current attempt's.
        if (CostCalculator.Compute(request.Outcome, request.Attempt.Deployment) is { } cost && !context.Response.HasStarted)
        {
            request.Outcome.ResponseCost = cost;
            context.Response.Headers[ResponseCostHeader] = cost.ToString(CultureInfo.InvariantCulture);
        }

        return default;
    }

    public void OnAborted()
    {
    }
}
