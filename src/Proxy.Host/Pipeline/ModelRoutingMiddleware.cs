using System.Buffers;
using System.Text;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http.Features;
using Proxy.Abstractions;
using Proxy.Host.Routing;
using Proxy.Transforms.Body;
using Proxy.Transforms.Multipart;
using Proxy.Transforms.Protocols;
using Proxy.Transforms.Usage;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Proxy.Host.Pipeline;

/// <summary>
/// First stage of the proxy pipeline: reads the body once and finds the model group named by its <c>model</c>; the
/// router then sends the request to that group's YARP cluster. Every client mistake ends here as an OpenAI-shaped 4xx.
/// </summary>
internal sealed partial class ModelRoutingMiddleware(
    RequestDelegate next, GatewayState state, PromptTokenCounter tokens, IOpenAiErrorWriter errors, IEnumerable<IGatewayRequestStage> stages,
    InboundProtocols protocols, StoredResponses storedResponses, TimeProvider time)
{
    // Keys, guardrails, cache: in their declared order, fixed at start-up.
    private readonly IGatewayRequestStage[] _stages = [.. stages.OrderBy(stage => stage.Order)];

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Features.GetRequiredFeature<GatewayRequestContext>();
        var snapshot = state.Current;
        request.SetEndpoint(EndpointOf(context));
        if (request.Endpoint == OpenAiEndpoint.VllmPassThrough)
        {
            if (!VllmPassThroughPath.TryBuild(context.Request.Path, context.Request.QueryString, out var upstreamPath, out var pathError))
            {
                await errors.WriteAsync(context, pathError);
                return;
            }

            request.SetPassThroughPath(upstreamPath);
        }

        if (IsMultipart(context, request.Endpoint))
        {
            await RouteMultipartAsync(context, request, snapshot);
            return;
        }

        BodyReadResult read;
        try
        {
            read = await RequestBodyReader.ReadAsync(context.Request, snapshot.MaxRequestBodyBytes, context.RequestAborted);
        }
        catch (BadHttpRequestException ex)
        {
            await errors.WriteAsync(context, Unreadable(ex));
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
            if (IsStoredResponseOperation(request.Endpoint))
            {
                await RouteStoredResponseAsync(context, request, snapshot, body);
                return;
            }

            await RouteAsync(context, request, snapshot, body);
        }
        finally
        {
            body.Dispose();
        }
    }

    private async Task RouteAsync(HttpContext context, GatewayRequestContext request, GatewaySnapshot snapshot, PooledBuffer body)
    {
        // JSON text is UTF-8 (RFC 8259); the scanner skips string values without decoding them, so check here, before any
        // stage reads the body or it goes upstream.
        if (!Utf8.IsValid(body.Span))
        {
            await errors.WriteAsync(context, GatewayError.InvalidUtf8(FirstInvalidUtf8(body.Span)));
            return;
        }

        var status = RequestScanner.Scan(body.Span, out var scan);
        if (status != ScanStatus.Ok)
        {
            await errors.WriteAsync(context, status switch
            {
                ScanStatus.NotAnObject => GatewayError.NotAnObject(),
                ScanStatus.DuplicatePrompt => GatewayError.DuplicatePrompt(),
                _ => GatewayError.InvalidJson("check the syntax"),
            });
            return;
        }

        // Azure-style paths (/openai/deployments/{model}/...) name the model in the path, which wins over the body.
        var model = context.Request.RouteValues.TryGetValue("model", out var fromPath) && fromPath is string pathModel ? pathModel : scan.Model;
        if (model is null)
        {
            await errors.WriteAsync(context, scan.ModelKind == ModelKind.NotString ? GatewayError.ModelNotString() : GatewayError.MissingModel());
            return;
        }

        await RouteToGroupAsync(context, request, snapshot, model, body, scan, multipart: null);
    }

    /// <summary>The model is known: find its group (by name, alias or wildcard), fix the request's facts, run the stages, route.</summary>
    private async Task RouteToGroupAsync(
        HttpContext context, GatewayRequestContext request, GatewaySnapshot snapshot, string model, PooledBuffer body, RequestScan scan, MultipartBody? multipart)
    {
        if (!snapshot.TryResolveGroup(model, out var group, out _))
        {
            await errors.WriteAsync(context, GatewayError.UnknownModel(model, snapshot.AvailableGroupsText));
            return;
        }

        if (protocols.For(request.Protocol) is { } protocol)
        {
            await RouteTranslatedAsync(context, request, snapshot, group, model, body, scan, protocol);
            return;
        }

        if (request.Endpoint == OpenAiEndpoint.Responses)
        {
            await RouteResponsesAsync(context, request, snapshot, group, model, body, scan);
            return;
        }

        await RunAsync(context, request, snapshot, group, model, body, scan, default, default, multipart: multipart);
    }

    /// <summary>
    /// A client of another protocol: its body becomes the chat body the pipeline works on, and a translating response
    /// body turns the chat answer (or stream) back into its protocol, whoever writes it.
    /// </summary>
    private async Task RouteTranslatedAsync(
        HttpContext context, GatewayRequestContext request, GatewaySnapshot snapshot, ModelGroup group, string model, PooledBuffer body,
        RequestScan clientScan, IInboundProtocol protocol)
    {
        var chat = new Transforms.Streaming.ArrayPoolBufferWriter();
        PooledBuffer chatBody;
        try
        {
            if (protocol.TranslateRequest(body.Span, request.Endpoint, chat) is { } invalid)
            {
                await errors.WriteAsync(context, invalid);
                return;
            }

            chatBody = chat.Detach();
        }
        finally
        {
            chat.Dispose();
        }

        try
        {
            // The translator writes only valid JSON; scanning it gives the splicer its ranges and the stages their facts.
            RequestScanner.Scan(chatBody.Span, out var chatScan);
            if (request.Endpoint == OpenAiEndpoint.AnthropicMessages)
            {
                // In the pipeline a Messages call is a chat completion; the protocol is remembered on the request.
                request.SetEndpoint(OpenAiEndpoint.ChatCompletions);
            }

            var translating = TranslatingResponseBody.Install(context, request, stream => protocol.CreateResponseTranslator(stream, request));
            var completed = false;
            try
            {
                await RunAsync(context, request, snapshot, group, model, chatBody, chatScan, body, clientScan);
                completed = true;
            }
            finally
            {
                await translating.FinishAsync(completed, context.RequestAborted);
            }
        }
        finally
        {
            chatBody.Dispose();
        }
    }

    private async Task RunAsync(
        HttpContext context, GatewayRequestContext request, GatewaySnapshot snapshot, ModelGroup group, string model, PooledBuffer body,
        RequestScan scan, PooledBuffer clientBody, RequestScan clientScan, ResponsePin pin = default, MultipartBody? multipart = null)
    {
        // What the stars of a wildcard group matched fills its deployments' models (matched again: only wildcard requests pay).
        var wildcard = WildcardGroups.IsPattern(group.Name) && snapshot.Wildcards.TryMatch(model, out _, out var segments) ? segments : null;
        // The tokenizer runs only for pre-call context checks; usage-based routing only needs the scale.
        var inputTokens = multipart is not null ? 0
            : snapshot.Router.EnablePreCallChecks && group.HasContextLimits ? tokens.CountPromptTokens(body.Span)
            : body.Length / 4;
        request.Route(model, group.Name, multipart?.Stream ?? scan.Stream, scan.IncludeUsage, inputTokens);
        // A translated request's tags are in the client's own body (the translation keeps only what the chat body needs).
        var tags = clientBody.Length > 0
            ? TagRouting.Query(snapshot, request, clientBody.Span, clientScan, context.Request.Headers)
            : TagRouting.Query(snapshot, request, body.Span, scan, context.Request.Headers);
        FleetRequestFacts.Attach(context, request, snapshot.Router, body.Span, scan);
        context.Features.Set(new ProxyRequestState
        {
            Snapshot = snapshot, Group = group, Body = body, Scan = scan, Multipart = multipart, WildcardSegments = wildcard, Tags = tags,
            ClientMayMock = ClientMayMock(snapshot, request),
            ClientBody = clientBody, ClientScan = clientScan, PinnedDeploymentId = pin.DeploymentId, UpstreamPreviousResponseId = pin.UpstreamId,
        });
        foreach (var stage in _stages)
        {
            if (await stage.InvokeAsync(context, request, body.Memory))
            {
                return;
            }
        }

        await next(context);
    }

    // mock_response and mock_testing_* change what the gateway answers and, through retries, what it does to a group:
    // the operator's master key may send them; other keys only where the operator allows it.
    private static bool ClientMayMock(GatewaySnapshot snapshot, GatewayRequestContext request)
    {
        var general = snapshot.Config.GeneralSettings;
        return !general.DisableMockTestingFlags && (request.IsMasterKey || !snapshot.MasterKey.IsConfigured || general.AllowClientMockResponse);
    }

    private static GatewayError Unreadable(BadHttpRequestException ex) =>
        new(ex.StatusCode == 413 ? 413 : 400, "invalid_request_error", "The request body could not be read: " + ex.Message);

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> body)
    {
        var offset = 0;
        while (offset < body.Length)
        {
            if (Rune.DecodeFromUtf8(body[offset..], out _, out var consumed) != OperationStatus.Done)
            {
                return offset;
            }

            offset += consumed;
        }

        return offset;
    }

    private static OpenAiEndpoint EndpointOf(HttpContext context) =>
        ModelRoutes.EndpointByRouteId.TryGetValue(context.GetRouteModel().Config.RouteId, out var endpoint) ? endpoint : OpenAiEndpoint.ChatCompletions;
}
