using Microsoft.AspNetCore.Http;

namespace Proxy.Abstractions;

/// <summary>
/// Facts about one request, collected once and read by routing, transforms, metrics and spend tracking instead of
/// each of them working it out again. Stored as an HttpContext feature.
/// </summary>
public sealed class GatewayRequestContext
{
    public required string CallId { get; init; }

    public required long StartTimestamp { get; init; }

    public OpenAiEndpoint Endpoint { get; set; }

    public string? ModelGroup { get; set; }

    public bool Stream { get; set; }

    /// <summary>The client asked for stream_options.include_usage itself (so it expects the usage chunk).</summary>
    public bool ClientWantsUsage { get; set; }

    /// <summary>
    /// A stage needs the upstream's usage for a stream (spend tracking): the forwarder asks for
    /// stream_options.include_usage, and the copier hides the usage chunk unless <see cref="ClientWantsUsage"/>.
    /// </summary>
    public bool ForceStreamUsage { get; set; }

    /// <summary>Prompt tokens of the request: counted by the tokenizer when pre-call checks ran, else estimated from the body size.</summary>
    public int EstimatedInputTokens { get; set; }

    /// <summary>The deployment of the current attempt.</summary>
    public Deployment? Deployment { get; set; }

    /// <summary>Set by the response transform when the upstream answered an error before any byte reached the client.</summary>
    public GatewayError? UpstreamError { get; set; }

    public UpstreamFailureKind FailureKind { get; set; }

    /// <summary>The cooldown policy took the current attempt's deployment out of rotation.</summary>
    public bool CooledDown { get; set; }

    /// <summary>When the current attempt was handed to the forwarder (TimeProvider ticks).</summary>
    public long AttemptStartTimestamp { get; set; }

    public int AttemptedRetries { get; set; }

    public int AttemptedFallbacks { get; set; }

    /// <summary>The model group the request named (the served group differs after a fallback).</summary>
    public string? RequestedModelGroup { get; set; }

    /// <summary>Usage of the answered attempt, from the upstream's usage block (or estimated from the stream); null when unknown.</summary>
    public int? PromptTokens { get; set; }

    public int? CompletionTokens { get; set; }

    /// <summary>usage.prompt_tokens_details.cached_tokens of the answered attempt; null when the upstream did not report it.</summary>
    public int? CachedPromptTokens { get; set; }

    /// <summary>Why a fleet-aware router picked the answering deployment (x-litellm-routing-decision); None for other strategies.</summary>
    public RoutingDecision RoutingDecision { get; set; }

    /// <summary>The client's session id (x-litellm-session-id, x-litellm-trace-id or metadata.session_id), for session affinity.</summary>
    public string? SessionId { get; set; }

    /// <summary>Timestamp at which the first upstream response byte (headers) arrived.</summary>
    public long UpstreamHeadersTimestamp { get; set; }

    /// <summary>Hash of the virtual key that authenticated the request (never the key itself); null for the master key or an open gateway.</summary>
    public string? KeyHash { get; set; }

    /// <summary>The virtual key's alias, if it has one (a bounded, operator-chosen label).</summary>
    public string? KeyAlias { get; set; }

    /// <summary>Guardrails the virtual key turns on for its requests (LiteLLM's key metadata.guardrails); null when none.</summary>
    public IReadOnlyList<string>? KeyGuardrails { get; set; }

    /// <summary>The virtual key's budget (USD) and spend after this request, for the remaining-budget metrics; null when the key has no budget.</summary>
    public double? KeyMaxBudget { get; set; }

    public double? KeySpend { get; set; }

    /// <summary>What the virtual key may still send this minute (rpm_limit / tpm_limit minus use); null when unlimited.</summary>
    public long? KeyRemainingRequests { get; set; }

    public long? KeyRemainingTokens { get; set; }

    /// <summary>The request was authenticated with the master key.</summary>
    public bool IsMasterKey { get; set; }

    /// <summary>Cost of the answer in USD from usage and the deployment's prices; 0 for cache hits; null when unknown.</summary>
    public double? ResponseCost { get; set; }

    /// <summary>The answer came from the response cache (no deployment was called).</summary>
    public bool CacheHit { get; set; }

    /// <summary>The cache key of the request when caching applied to it.</summary>
    public string? CacheKey { get; set; }

    /// <summary>Name of the guardrail that refused the request or its answer, if one did.</summary>
    public string? BlockedByGuardrail { get; set; }

    /// <summary>The error the gateway answered the client with (set by the error writer), for metrics and the access log.</summary>
    public GatewayError? AnsweredError { get; set; }

    /// <summary>Taps registered for the answer; see <see cref="IResponseTap"/>.</summary>
    public IReadOnlyList<IResponseTap>? ResponseTaps => _responseTaps;

    private List<IResponseTap>? _responseTaps;

    public void AddResponseTap(IResponseTap tap) => (_responseTaps ??= []).Add(tap);

    public static GatewayRequestContext? Get(HttpContext context) => context.Features.Get<GatewayRequestContext>();
}
