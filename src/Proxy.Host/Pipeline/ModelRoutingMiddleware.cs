using Microsoft.AspNetCore.Http.Features;
using Proxy.Abstractions;
using Proxy.Host.Routing;
using Proxy.Transforms.Body;
using Proxy.Transforms.Usage;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Proxy.Host.Pipeline;

/// <summary>
/// First stage of the proxy pipeline: reads the body once and finds the model group named by its <c>model</c>; the
/// router then sends the request to that group's YARP cluster. Every client mistake ends here as an OpenAI-shaped 4xx.
/// </summary>
internal sealed class ModelRoutingMiddleware(
    RequestDelegate next, GatewayState state, PromptTokenCounter tokens, IOpenAiErrorWriter errors, IEnumerable<IGatewayRequestStage> stages)
{
    // Keys, guardrails, cache: in their declared order, fixed at start-up.
    private readonly IGatewayRequestStage[] _stages = [.. stages.OrderBy(stage => stage.Order)];

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Features.GetRequiredFeature<GatewayRequestContext>();
        var snapshot = state.Current;
        request.Endpoint = EndpointOf(context);

        BodyReadResult read;
        try
        {
            read = await RequestBodyReader.ReadAsync(context.Request, snapshot.MaxRequestBodyBytes, context.RequestAborted);
        }
        catch (BadHttpRequestException ex)
        {
            await errors.WriteAsync(context, new GatewayError(ex.StatusCode == 413 ? 413 : 400, "invalid_request_error",
                "The request body could not be read: " + ex.Message));
            return;
        }

        if (read.TooLarge)
        {
            await errors.WriteAsync(context, GatewayError.BodyTooLarge(snapshot.MaxRequestBodyBytes));
            return;
        }

        var body = read.Body;
        try
        {
            await RouteAsync(context, request, snapshot, body);
        }
        finally
        {
            body.Dispose();
        }
    }

    private async Task RouteAsync(HttpContext context, GatewayRequestContext request, GatewaySnapshot snapshot, PooledBuffer body)
    {
        var status = RequestScanner.Scan(body.Span, out var scan);
        if (status != ScanStatus.Ok)
        {
            await errors.WriteAsync(context, status == ScanStatus.NotAnObject ? GatewayError.NotAnObject() : GatewayError.InvalidJson("check the syntax"));
            return;
        }

        // Azure-style paths (/openai/deployments/{model}/...) name the model in the path, which wins over the body.
        var model = context.Request.RouteValues.TryGetValue("model", out var fromPath) && fromPath is string pathModel ? pathModel : scan.Model;
        if (model is null)
        {
            await errors.WriteAsync(context, scan.ModelKind == ModelKind.NotString ? GatewayError.ModelNotString() : GatewayError.MissingModel());
            return;
        }

        if (!snapshot.Groups.TryGetValue(model, out var group))
        {
            await errors.WriteAsync(context, GatewayError.UnknownModel(model, snapshot.AvailableGroupsText));
            return;
        }

        request.ModelGroup = group.Name;
        // The name as sent (an alias stays an alias), for key model access; the router later records the group.
        request.RequestedModelGroup = model;
        request.Stream = scan.Stream;
        request.ClientWantsUsage = scan.IncludeUsage;
        // The tokenizer runs only for pre-call context checks; usage-based routing only needs the scale.
        request.EstimatedInputTokens = snapshot.Router.EnablePreCallChecks && group.HasContextLimits
            ? tokens.CountPromptTokens(body.Span)
            : body.Length / 4;
        FleetRequestFacts.Attach(context, request, snapshot.Router, body.Span, scan);
        context.Features.Set(new ProxyRequestState { Snapshot = snapshot, Group = group, Body = body, Scan = scan });
        foreach (var stage in _stages)
        {
            if (await stage.InvokeAsync(context, request, body.Memory))
            {
                return;
            }
        }

        await next(context);
    }

    private static OpenAiEndpoint EndpointOf(HttpContext context) =>
        SnapshotBuilder.EndpointByRouteId.TryGetValue(context.GetRouteModel().Config.RouteId, out var endpoint) ? endpoint : OpenAiEndpoint.ChatCompletions;
}
