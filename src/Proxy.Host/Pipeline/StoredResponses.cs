using Proxy.Abstractions;
using Proxy.Host.Routing;
using Proxy.Transforms.Protocols.ResponsesBridge;
using Proxy.Transforms.Responses;

namespace Proxy.Host.Pipeline;

/// <summary>
/// The Responses API responses the gateway bridged to chat and keeps itself (<see cref="IResponseStore"/>): saved
/// with general_settings.responses_store_ttl, found again for a follow-up, and answered for GET, DELETE and
/// input_items. A virtual key sees only the responses it made; the master key sees every one.
/// </summary>
internal sealed partial class StoredResponses(IResponseStore store, IOpenAiErrorWriter errors, GatewayState state, TimeProvider time, ILogger<StoredResponses> logger)
{
    private static readonly TimeSpan DefaultTtl = TimeSpan.FromDays(30);

    public async Task SaveAsync(
        GatewayRequestContext request, string modelGroup, BridgedResponse answer, ReadOnlyMemory<byte> clientBody, List<byte[]>? history, CancellationToken cancellationToken)
    {
        if (answer.Final is null || !ResponseIdCodec.TryDecode(answer.Id, out var decoded))
        {
            return;
        }

        var input = ResponseItems.InputItemsOf(clientBody.Span);
        var conversation = (history ?? []).Concat(input).Concat(answer.OutputItems);
        var now = time.GetUtcNow();
        var ttl = state.Current.Config.GeneralSettings.ResponsesStoreTtl is { } configured && configured > TimeSpan.Zero ? configured : DefaultTtl;
        var row = new StoredResponse(
            decoded.UpstreamId, request.Caller.KeyHash, modelGroup, System.Text.Encoding.UTF8.GetString(answer.Final),
            ResponseItems.ToJsonArray(input), ResponseItems.ToJsonArray(conversation), now.ToUnixTimeMilliseconds(), (now + ttl).ToUnixTimeMilliseconds());
        try
        {
            await store.SaveAsync(row, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The answer stands; only a follow-up of it will not find it (and is told so).
            Log.SaveFailed(logger, request.CallId, ex.Message);
        }
    }

    /// <summary>The stored response if this caller may see it; otherwise the 404 (or 503) is written and null returned.</summary>
    public async Task<StoredResponse?> FindOwnAsync(HttpContext context, GatewayRequestContext request, string storedId, string clientId, string? param)
    {
        StoredResponse? found;
        try
        {
            found = await store.FindAsync(storedId, context.RequestAborted);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await errors.WriteAsync(context, new GatewayError(503, "service_unavailable",
                $"Response with id '{clientId}' is kept in the gateway's database, which is not available now; retry shortly.", param));
            Log.FindFailed(logger, request.CallId, ex.Message);
            return null;
        }

        if (found is null || !(request.IsMasterKey || string.Equals(found.Owner, request.Caller.KeyHash, StringComparison.Ordinal)))
        {
            await errors.WriteAsync(context, new GatewayError(404, "invalid_request_error", $"Response with id '{clientId}' not found.", param));
            return null;
        }

        return found;
    }

    /// <summary>GET, DELETE, input_items (and cancel, refused) on a response the gateway keeps.</summary>
    public async Task AnswerAsync(HttpContext context, GatewayRequestContext request, string clientId, string storedId)
    {
        var found = await FindOwnAsync(context, request, storedId, clientId, null);
        if (found is null)
        {
            return;
        }

        switch (request.Endpoint)
        {
            case OpenAiEndpoint.ResponsesRetrieve:
                await WriteJsonAsync(context, found.Response);
                return;
            case OpenAiEndpoint.ResponsesDelete:
                await store.DeleteAsync(storedId, context.RequestAborted);
                await WriteJsonAsync(context, StoredResponseAnswers.Deleted(clientId));
                return;
            case OpenAiEndpoint.ResponsesInputItems:
                await WriteJsonAsync(context, StoredResponseAnswers.InputItems(found.InputItems, context.Request.Query));
                return;
            default:
                await errors.WriteAsync(context, new GatewayError(400, "invalid_request_error",
                    $"Response with id '{clientId}' cannot be cancelled: only background responses can be, and the gateway answers this model's requests in the foreground."));
                return;
        }
    }

    private static async Task WriteJsonAsync(HttpContext context, string json)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json, context.RequestAborted);
    }

    private static partial class Log
    {
        [LoggerMessage(1501, LogLevel.Warning, "Bridged response of call {CallId} could not be stored ({Reason}); its follow-ups will not find it")]
        public static partial void SaveFailed(ILogger logger, string callId, string reason);

        [LoggerMessage(1502, LogLevel.Warning, "Stored response for call {CallId} could not be read ({Reason})")]
        public static partial void FindFailed(ILogger logger, string callId, string reason);
    }
}
