using Proxy.Abstractions;
using Proxy.Host.Routing;
using Proxy.Transforms.Body;

namespace Proxy.Host.Pipeline;

/// <summary>
/// The body one attempt sends to its deployment, as the request's <c>Body</c> (YARP refuses a transformer that swaps
/// the outgoing content): a JSON body spliced for the deployment's model (LiteLLM-only members removed); a
/// pass-through body with only its model replaced; a multipart upload read again from its spool with only its model
/// field replaced. A wildcard group's deployment gets the model its pattern made of the requested one.
/// </summary>
internal static class UpstreamBody
{
    /// <param name="spliced">Set when a buffer was rented for the attempt; the caller disposes it when the attempt ends.</param>
    public static void Set(HttpContext context, GatewayRequestContext request, ProxyRequestState state, Deployment deployment, ref PooledBuffer spliced)
    {
        var model = state.WildcardSegments is { } segments
            ? WildcardGroups.Resolve(deployment.UpstreamModel, segments, request.RequestedModel ?? "")
            : deployment.UpstreamModel;
        if (state.Multipart is { } multipart)
        {
            context.Request.Body = multipart.OpenFor(model, out var length);
            context.Request.ContentLength = length;
            return;
        }

        var body = state.Body;
        var forwarded = body;
        if (request.Endpoint == OpenAiEndpoint.VllmPassThrough)
        {
            if (!ModelSplice.IsIdentity(state.Scan, model))
            {
                spliced = ModelSplice.Replace(body.Span, state.Scan, model);
                forwarded = spliced;
            }
        }
        else if (!BodySplicer.IsIdentity(state.Scan, body.Span, model, forceIncludeUsage: request.ForceStreamUsage))
        {
            spliced = BodySplicer.Splice(body.Span, state.Scan, model, forceIncludeUsage: request.ForceStreamUsage);
            forwarded = spliced;
        }

        context.Request.Body = new MemoryStream(forwarded.Array, 0, forwarded.Length, writable: false);
        context.Request.ContentLength = forwarded.Length;
    }
}
