using Microsoft.AspNetCore.Http;

namespace Proxy.Abstractions;

/// <summary>
/// What one request is: who sent it and what it asks for. Its facts are written once, each by the stage that learns
/// them (authentication: <see cref="Caller"/>; routing: <see cref="Route"/>), and read by everything after. What
/// happens to the request lives beside it: the current upstream <see cref="Attempt"/> and the <see cref="Outcome"/>.
/// Stored as an HttpContext feature.
/// </summary>
/// <remarks>
/// Adding a field: a fact about the request itself goes here (set once); a fact about one call to one deployment goes
/// on <see cref="AttemptContext"/>; something the answer decides (usage, cost, errors, cache hit) goes on
/// <see cref="RequestOutcome"/>.
/// </remarks>
public sealed class GatewayRequestContext
{
    private List<IResponseTap>? _responseTaps;

    public required string CallId { get; init; }

    public required long StartTimestamp { get; init; }

    /// <summary>Who sent the request; <see cref="CallerIdentity.Anonymous"/> until authentication says otherwise.</summary>
    public CallerIdentity Caller { get; private set; } = CallerIdentity.Anonymous;

    /// <summary>The OpenAI operation asked for (from the matched route); set before the body is read.</summary>
    public OpenAiEndpoint Endpoint { get; private set; }

    /// <summary>The protocol the client speaks (from its path, before auth); errors and answers are written in it.</summary>
    public ClientProtocol Protocol { get; init; }

    /// <summary>The model the client named, as named (an alias stays an alias): what key model access is checked against.</summary>
    public string? RequestedModel { get; private set; }

    /// <summary>The model group the request resolved to; null until routed, and for requests that are not model calls.</summary>
    public string? ModelGroup { get; private set; }

    public bool Stream { get; private set; }

    /// <summary>The client asked for stream_options.include_usage itself (so it expects the usage chunk).</summary>
    public bool ClientWantsUsage { get; private set; }

    /// <summary>Prompt tokens of the request: counted by the tokenizer when pre-call checks need it, else estimated from the body size.</summary>
    public int EstimatedInputTokens { get; private set; }

    /// <summary>The client's session id (x-litellm-session-id, x-litellm-trace-id or metadata.session_id), for session affinity.</summary>
    public string? SessionId { get; private set; }

    /// <summary>
    /// A stage needs the upstream's usage for a stream (spend tracking): the forwarder asks for
    /// stream_options.include_usage, and the copier hides the usage chunk unless <see cref="ClientWantsUsage"/>.
    /// </summary>
    public bool ForceStreamUsage { get; private set; }

    /// <summary>For the /vllm pass-through: the upstream path below the server root, with the query ("/score?x=1").</summary>
    public string? PassThroughPath { get; private set; }

    /// <summary>The request's routing tags (body tags, metadata.tags, x-litellm-tags, the key's tags); null when tag filtering is off or none were sent.</summary>
    public IReadOnlyList<string>? Tags { get; private set; }

    /// <summary>The upstream call in progress (or the last one made); one object per request, reset for each attempt.</summary>
    public AttemptContext Attempt { get; } = new();

    /// <summary>What the request came to; written as the answer is decided, read by the completion observers.</summary>
    public RequestOutcome Outcome { get; } = new();

    /// <summary>Taps registered for the answer; see <see cref="IResponseTap"/>.</summary>
    public IReadOnlyList<IResponseTap>? ResponseTaps => _responseTaps;

    /// <summary>The request was authenticated with the master key.</summary>
    public bool IsMasterKey => Caller.IsMasterKey;

    public static GatewayRequestContext? Get(HttpContext context) => context.Features.Get<GatewayRequestContext>();

    /// <summary>Authentication found the caller (the master key or a virtual key).</summary>
    public void Authenticate(CallerIdentity caller) => Caller = caller;

    /// <summary>
    /// The matched route names the operation; known before the body is read. A translated protocol names it again once
    /// translated (a Messages call is a chat completion in the pipeline).
    /// </summary>
    public void SetEndpoint(OpenAiEndpoint endpoint) => Endpoint = endpoint;

    /// <summary>The body has been read and its model group found: the request's facts, fixed from here on.</summary>
    public void Route(string requestedModel, string modelGroup, bool stream, bool clientWantsUsage, int estimatedInputTokens)
    {
        if (ModelGroup is not null)
        {
            throw new InvalidOperationException("The request was already routed.");
        }

        RequestedModel = requestedModel;
        ModelGroup = modelGroup;
        Stream = stream;
        ClientWantsUsage = clientWantsUsage;
        EstimatedInputTokens = estimatedInputTokens;
    }

    /// <summary>The session the request belongs to (see <see cref="SessionId"/>); known when the body has been read.</summary>
    public void SetSession(string? sessionId) => SessionId = sessionId;

    /// <summary>
    /// For an operation on an object the upstream stores (a Responses API response): the upstream path after the
    /// operation's base, e.g. <c>/resp_abc/cancel</c>, with the upstream's own id. Null for every other request.
    /// </summary>
    public string? UpstreamPathSuffix { get; private set; }

    /// <summary>The request addresses an object the upstream stores; see <see cref="UpstreamPathSuffix"/>.</summary>
    public void TargetStoredObject(string upstreamPathSuffix) => UpstreamPathSuffix = upstreamPathSuffix;

    /// <summary>
    /// Ask the forwarder for the upstream's usage chunk on streams (see <see cref="ForceStreamUsage"/>). Only chat and
    /// text completions take stream_options; a pass-through body is forwarded as it came.
    /// </summary>
    public void RequireStreamUsage() => ForceStreamUsage = Endpoint is OpenAiEndpoint.ChatCompletions or OpenAiEndpoint.Completions;

    /// <summary>The checked pass-through path (see <see cref="PassThroughPath"/>); set once, before routing.</summary>
    public void SetPassThroughPath(string pathAndQuery) => PassThroughPath = pathAndQuery;

    /// <summary>The routing tags found for the request (see <see cref="Tags"/>); set once, when it is routed.</summary>
    public void SetTags(IReadOnlyList<string>? tags) => Tags = tags;

    public void AddResponseTap(IResponseTap tap) => (_responseTaps ??= []).Add(tap);
}
