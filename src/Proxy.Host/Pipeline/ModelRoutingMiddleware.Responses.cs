using Proxy.Abstractions;
using Proxy.Host.Routing;
using Proxy.Transforms.Body;
using Proxy.Transforms.Protocols;
using Proxy.Transforms.Responses;

namespace Proxy.Host.Pipeline;

/// <summary>
/// OpenAI's Responses API. A response is stored on the vLLM server that made it, so every id the client sees names its
/// deployment (<see cref="ResponseIdCodec"/>): a follow-up (<c>previous_response_id</c>) or an operation on a stored
/// response is pinned to that deployment, whichever gateway replica takes it, and never silently sent elsewhere.
/// </summary>
internal sealed partial class ModelRoutingMiddleware
{
    private static bool IsStoredResponseOperation(OpenAiEndpoint endpoint) =>
        endpoint is OpenAiEndpoint.ResponsesRetrieve or OpenAiEndpoint.ResponsesDelete or OpenAiEndpoint.ResponsesCancel or OpenAiEndpoint.ResponsesInputItems;

    /// <summary>POST /v1/responses: a follow-up goes to the deployment holding its previous response.</summary>
    private async Task RouteResponsesAsync(
        HttpContext context, GatewayRequestContext request, GatewaySnapshot snapshot, ModelGroup group, string model, PooledBuffer body, RequestScan scan)
    {
        var pin = default(ResponsePin);
        if (scan.PreviousResponseId is { } previous)
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

        await RunRewritingIdsAsync(context, request, snapshot, group, model, body, scan, pin);
    }

    /// <summary>GET/DELETE /v1/responses/{id}, .../cancel, .../input_items: to the deployment the id names.</summary>
    private async Task RouteStoredResponseAsync(HttpContext context, GatewayRequestContext request, GatewaySnapshot snapshot, PooledBuffer body)
    {
        var id = context.Request.RouteValues.TryGetValue("response_id", out var value) && value is string text ? text : "";
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
        await RunRewritingIdsAsync(context, request, snapshot, group, group.Name, body, default, new ResponsePin(deployment.Id, null));
    }

    // The answer's response ids (JSON or every stream event) are rewritten to name the deployment that answered.
    private async Task RunRewritingIdsAsync(
        HttpContext context, GatewayRequestContext request, GatewaySnapshot snapshot, ModelGroup group, string model, PooledBuffer body, RequestScan scan,
        ResponsePin pin)
    {
        var rewriting = TranslatingResponseBody.Install(context, request, stream => request.Attempt.Deployment is { } answered
            ? new ResponseIdRewriter(answered.Provider.Length == 0 ? "openai" : answered.Provider, answered.Id, stream)
            : new ResponseIdRewriter(null, null, stream));
        var completed = false;
        try
        {
            await RunAsync(context, request, snapshot, group, model, body, in scan, default, in NoScan, pin);
            completed = true;
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
