using Microsoft.AspNetCore.Http;
using Proxy.Admin.Budgets;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Spend;

/// <summary>
/// After every proxied request: prices it, adds the cost to the key's spend at once (in memory; written in
/// batches), frees its rate-limit slot, and queues its spend-log row. Never waits and never throws.
/// </summary>
internal sealed class SpendTracker(SpendQueue queue, IKeyLimitCounters counters, TimeProvider time, AdminOptions options) : IRequestCompletionObserver
{
    public void OnCompleted(HttpContext context, GatewayRequestContext request)
    {
        if (request.ModelGroup is null)
        {
            // Not a model call (admin API, health, a request refused before routing).
            return;
        }

        var cost = request.ResponseCost ??= CostCalculator.Compute(request);
        var tokens = (long)(request.PromptTokens ?? 0) + (request.CompletionTokens ?? 0);
        var now = time.GetUtcNow();
        if (context.Features.Get<KeyTicket>() is { } ticket)
        {
            counters.Finish(ticket.Key, now, tokens);
            if (cost is > 0 and var c && ticket.Key.AddSpend(c))
            {
                queue.MarkDirty(ticket.Key);
            }

            // For the remaining-budget and remaining-limit metrics (observers after this one read them).
            var settings = ticket.Key.Settings;
            request.KeySpend = ticket.Key.Spend;
            request.KeyMaxBudget = settings.MaxBudget;
            request.KeyRemainingRequests = settings.RpmLimit is null ? null : ticket.Limits.RemainingRequests;
            request.KeyRemainingTokens = settings.TpmLimit is null ? null : ticket.Limits.RemainingTokens;
        }

        if (!options.DisableSpendLogs)
        {
            queue.TryEnqueue(Row(context, request, cost ?? 0, now));
        }
    }

    private SpendLogRow Row(HttpContext context, GatewayRequestContext request, double cost, DateTimeOffset now)
    {
        var latency = time.GetElapsedTime(request.StartTimestamp).TotalMilliseconds;
        var end = now.ToUnixTimeMilliseconds();
        var deployment = request.Deployment;
        var failed = context.Response.StatusCode >= 400 || request.UpstreamError is not null;
        return new SpendLogRow
        {
            RequestId = request.CallId,
            CallType = request.Protocol == ClientProtocol.AnthropicMessages ? "anthropic_messages" : CallType(request.Endpoint),
            ApiKey = request.KeyHash ?? "",
            KeyAlias = request.KeyAlias,
            Spend = cost,
            PromptTokens = request.PromptTokens ?? 0,
            CompletionTokens = request.CompletionTokens ?? 0,
            TotalTokens = (long)(request.PromptTokens ?? 0) + (request.CompletionTokens ?? 0),
            StartTime = end - (long)latency,
            EndTime = end,
            Model = deployment?.UpstreamModel,
            ModelId = deployment?.Id,
            ModelGroup = request.RequestedModelGroup ?? request.ModelGroup,
            ApiBase = deployment?.ApiBase,
            CacheHit = request.CacheHit ? 1 : 0,
            Status = failed ? "failure" : "success",
            LatencyMs = latency,
        };
    }

    // LiteLLM's call_type names.
    private static string CallType(OpenAiEndpoint endpoint) => endpoint switch
    {
        OpenAiEndpoint.ChatCompletions => "acompletion",
        OpenAiEndpoint.Completions => "atext_completion",
        OpenAiEndpoint.Embeddings => "aembedding",
        OpenAiEndpoint.Moderations => "amoderation",
        _ => "acompletion",
    };
}
