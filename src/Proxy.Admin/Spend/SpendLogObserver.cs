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

        var row = Row(context, request, time.GetUtcNow());
        if (context.Features.Get<Tenants.TenantTicket>() is { } tenant)
        {
            row.TeamId = tenant.TeamId;
            row.UserId = tenant.UserId;
            row.EndUser = tenant.CustomerId;
            row.OrganizationId = tenant.OrganizationId;
        }
        else if (context.Features.Get<Budgets.KeyTicket>() is { } key)
        {
            row.TeamId = key.Key.Settings.TeamId;
            row.UserId = key.Key.Settings.UserId;
        }

        queue.TryEnqueue(row);
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
            // The primary key is always the gateway's: a client's call id (which it may reuse) has its own column.
            RequestId = ClientSentCallId(context) ? Guid.CreateVersion7().ToString() : request.CallId,
            CallId = request.CallId,
            CallType = request.Protocol == ClientProtocol.AnthropicMessages ? "anthropic_messages" : CallType(request.Endpoint),
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

    private static bool ClientSentCallId(HttpContext context) =>
        context.Request.Headers.ContainsKey("x-litellm-call-id") || context.Request.Headers.ContainsKey("x-request-id");

    // LiteLLM's call_type names.
    private static string CallType(OpenAiEndpoint endpoint) => endpoint switch
    {
        OpenAiEndpoint.ChatCompletions => "acompletion",
        OpenAiEndpoint.Completions => "atext_completion",
        OpenAiEndpoint.Embeddings => "aembedding",
        OpenAiEndpoint.Moderations => "amoderation",
        OpenAiEndpoint.Responses => "aresponses",
        OpenAiEndpoint.ResponsesRetrieve => "aget_responses",
        OpenAiEndpoint.ResponsesDelete => "adelete_responses",
        OpenAiEndpoint.ResponsesCancel => "acancel_responses",
        OpenAiEndpoint.ResponsesInputItems => "alist_input_items",
        _ => "acompletion",
    };
}
