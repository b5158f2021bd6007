using Proxy.Abstractions;
using Proxy.Host.Routing;
using Proxy.Transforms.Body;
using Proxy.Transforms.Protocols;
using Proxy.Transforms.Protocols.ResponsesBridge;
using Proxy.Transforms.Responses;

namespace Proxy.Host.Pipeline;

/// <summary>
/// OpenAI's Responses API. A response is stored on the vLLM server that made it, so every id the client sees names its
/// deployment (<see cref="ResponseIdCodec"/>): a follow-up (<c>previous_response_id</c>) or an operation on a stored
/// response is pinned to that deployment, whichever gateway replica takes it, and never silently sent elsewhere. A
/// deployment that cannot serve Responses gets the request bridged to chat; the gateway keeps those responses itself
/// (<see cref="StoredResponses"/>), so their follow-ups carry the stored conversation and may go to any deployment.
/// </summary>
internal sealed partial class ModelRoutingMiddleware
{
    private static bool IsStoredResponseOperation(OpenAiEndpoint endpoint) =>
        endpoint is OpenAiEndpoint.ResponsesRetrieve or OpenAiEndpoint.ResponsesDelete or OpenAiEndpoint.ResponsesCancel or OpenAiEndpoint.ResponsesInputItems;

    /// <summary>POST /v1/responses: a follow-up goes to the deployment holding its previous response, or carries the conversation the gateway kept.</summary>
    private async Task RouteResponsesAsync(
        HttpContext context, GatewayRequestContext request, GatewaySnapshot snapshot, ModelGroup group, string model, PooledBuffer body, RequestScan scan)
    {
        var pin = default(ResponsePin);
        var previous = scan.PreviousResponseId;
        if (previous is not null && ResponseIdCodec.TryDecode(previous, out var stored) && stored.GatewayStored)
        {
            await ContinueStoredAsync(context, request, snapshot, group, model, body, previous, stored.UpstreamId);
            return;
        }

        if (previous is not null)
        {
            if (Resolve(previous, snapshot, "previous_response_id", out var deployment, out var decoded) is { } unknown)
            {
                await errors.WriteAsync(context, unknown);
                return;
            }

            if (!string.Equals(deployment!.ModelGroup, group.Name, StringComparison.Ordinal))
            {
                await errors.WriteAsync(context, new GatewayError(400, "invalid_request_error",
                    $"previous_response_id '{previous}' was answered by model group '{deployment.ModelGroup}', which stores it; send the follow-up to that model group, not '{model}'.",
                    "previous_response_id"));
                return;
            }

            pin = new ResponsePin(deployment.Id, decoded.UpstreamId);
        }

        await RunRewritingIdsAsync(context, request, snapshot, group, model, body, scan, pin, body, previous, history: null);
    }

    /// <summary>
    /// A follow-up of a response the gateway keeps: the stored conversation goes before the new input and the request is
    /// routed like a first turn (any deployment of the group can take the whole conversation).
    /// </summary>
    private async Task ContinueStoredAsync(
        HttpContext context, GatewayRequestContext request, GatewaySnapshot snapshot, ModelGroup group, string model, PooledBuffer body, string previous, string storedId)
    {
        var found = await storedResponses.FindOwnAsync(context, request, storedId, previous, "previous_response_id");
        if (found is null)
        {
            return;
        }

        var history = ResponseItems.FromJsonArray(found.Conversation);
        using var expanded = ResponseItems.WithInput(body.Span, history.Concat(ResponseItems.InputItemsOf(body.Span)));
        if (RequestScanner.Scan(expanded.Span, out var scan) != ScanStatus.Ok)
        {
            await errors.WriteAsync(context, GatewayError.InvalidJson("check the syntax"));
            return;
        }

        await RunRewritingIdsAsync(context, request, snapshot, group, model, expanded, scan, default, body, previous, history);
    }

    /// <summary>GET/DELETE /v1/responses/{id}, .../cancel, .../input_items: to the deployment the id names, or from the gateway's store.</summary>
    private async Task RouteStoredResponseAsync(HttpContext context, GatewayRequestContext request, GatewaySnapshot snapshot, PooledBuffer body)
    {
        var id = context.Request.RouteValues.TryGetValue("response_id", out var value) && value is string text ? text : "";
        if (ResponseIdCodec.TryDecode(id, out var stored) && stored.GatewayStored)
        {
            await storedResponses.AnswerAsync(context, request, id, stored.UpstreamId);
            return;
        }

        if (Resolve(id, snapshot, null, out var deployment, out var decoded) is { } unknown)
        {
            await errors.WriteAsync(context, unknown);
            return;
        }

        if (!snapshot.Groups.TryGetValue(deployment!.ModelGroup, out var group))
        {
            await errors.WriteAsync(context, GatewayError.UnknownModel(deployment.ModelGroup, snapshot.AvailableGroupsText));
            return;
        }

        var action = request.Endpoint switch
        {
            OpenAiEndpoint.ResponsesCancel => "/cancel",
            OpenAiEndpoint.ResponsesInputItems => "/input_items",
            _ => "",
        };
        request.TargetStoredObject("/" + Uri.EscapeDataString(decoded.UpstreamId) + action + context.Request.QueryString.Value);
        await RunRewritingIdsAsync(context, request, snapshot, group, group.Name, body, default, new ResponsePin(deployment.Id, null), default, null, null);
    }

    // The answer's response ids (JSON or every stream event) are rewritten to name the deployment that answered; a chat
    // answer (a bridged deployment, a mock) becomes a Responses one, which the gateway stores before the client sees it end.
    private async Task RunRewritingIdsAsync(
        HttpContext context, GatewayRequestContext request, GatewaySnapshot snapshot, ModelGroup group, string model, PooledBuffer body, RequestScan scan,
        ResponsePin pin, PooledBuffer clientBody, string? previousResponseId, List<byte[]>? history)
    {
        BridgedResponse? bridged = null;
        IResponseBodyTranslator? bridge = null;
        var rewriting = TranslatingResponseBody.Install(context, request, stream =>
        {
            var attempt = request.Attempt;
            var answered = attempt.Deployment;
            var provider = answered is null ? "" : answered.Provider.Length == 0 ? "openai" : answered.Provider;
            if (answered is { ServesResponses: true } && !attempt.Simulated)
            {
                return new ResponseIdRewriter(provider, answered.Id, stream);
            }

            // A chat answer: a bridged deployment's, a mock's, or a cached one (the cache keeps chat; a store: false
            // request, so its id names no deployment and nothing keeps it).
            var gatewayId = "resp_" + Guid.NewGuid().ToString("N");
            var id = answered is null ? gatewayId : ResponseIdCodec.EncodeGatewayStored(provider, answered.Id, gatewayId);
            bridged = new BridgedResponse(id, request.RequestedModel ?? model, time.GetUtcNow().ToUnixTimeSeconds(), clientBody.Span, previousResponseId);
            bridge = stream ? new ChatToResponsesStreamTranslator(bridged) : new ChatToResponsesResponseTranslator(bridged);
            return bridge;
        });
        var completed = false;
        try
        {
            await RunAsync(context, request, snapshot, group, model, body, scan, default, default, pin);
            completed = true;
            (bridge as ChatToResponsesResponseTranslator)?.Seal();
            if (bridged is { ShouldStore: true } answer && clientBody.Length > 0)
            {
                await storedResponses.SaveAsync(request, group.Name, answer, clientBody.Memory, history, context.RequestAborted);
            }
        }
        finally
        {
            await rewriting.FinishAsync(completed, context.RequestAborted);
        }
    }

    private static GatewayError? Resolve(string id, GatewaySnapshot snapshot, string? param, out Deployment? deployment, out DecodedResponseId decoded)
    {
        deployment = null;
        if (!ResponseIdCodec.TryDecode(id, out decoded))
        {
            // Not an id this gateway (or LiteLLM) made: nothing says which server stores it.
            return new GatewayError(404, "invalid_request_error", $"Response with id '{id}' not found.", param);
        }

        if (!snapshot.Deployments.TryGetValue(decoded.DeploymentId, out var route))
        {
            return new GatewayError(404, "invalid_request_error",
                $"Response with id '{id}' not found: it is stored on deployment '{decoded.DeploymentId}', which is not in this gateway's config.", param);
        }

        deployment = route.Deployment;
        return null;
    }
}
