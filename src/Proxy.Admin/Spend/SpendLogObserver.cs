using Microsoft.AspNetCore.Http;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Spend;

/// <summary>
/// Last after every proxied request (<see cref="ObserverOrder.SpendLog"/>): queues its spend-log row for the batch
/// writer, from the outcome that pricing completed. Never waits and never throws.
/// </summary>
internal sealed class SpendLogObserver(SpendQueue queue, TimeProvider time) : IRequestCompletionObserver
{
    public int Order => ObserverOrder.SpendLog;

    public void OnCompleted(HttpContext context, GatewayRequestContext request)
    {
        if (request.ModelGroup is null)
        {
            return;
        }

        queue.TryEnqueue(Row(context, request, time.GetUtcNow()));
    }

    private SpendLogRow Row(HttpContext context, GatewayRequestContext request, DateTimeOffset now)
    {
        var outcome = request.Outcome;
        var latency = time.GetElapsedTime(request.StartTimestamp).TotalMilliseconds;
        var end = now.ToUnixTimeMilliseconds();
        var deployment = outcome.Deployment;
        var failed = context.Response.StatusCode >= 400 || outcome.Failed;
        return new SpendLogRow
        {
            RequestId = request.CallId,
            CallType = UpstreamPaths.CallType(request.Endpoint),
            ApiKey = request.Caller.KeyHash ?? "",
            KeyAlias = request.Caller.KeyAlias,
            Spend = outcome.ResponseCost ?? 0,
            PromptTokens = outcome.PromptTokens ?? 0,
            CompletionTokens = outcome.CompletionTokens ?? 0,
            TotalTokens = (long)(outcome.PromptTokens ?? 0) + (outcome.CompletionTokens ?? 0),
            StartTime = end - (long)latency,
            EndTime = end,
            Model = deployment?.UpstreamModel,
            ModelId = deployment?.Id,
            ModelGroup = request.RequestedModel ?? request.ModelGroup,
            ApiBase = deployment?.ApiBase,
            CacheHit = outcome.CacheHit ? 1 : 0,
            Status = failed ? "failure" : "success",
            LatencyMs = latency,
        };
    }
}
