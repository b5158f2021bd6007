namespace Proxy.Abstractions;

/// <summary>
/// What a request came to: who answered, the usage and cost of the answer, and what went wrong. Written while the
/// answer is decided (each member says by whom) and read by the completion observers in their fixed order
/// (<see cref="ObserverOrder"/>): pricing completes it first, then metrics, the access log and the spend log read it.
/// </summary>
public sealed class RequestOutcome
{
    /// <summary>The deployment of the last attempt (the one that answered, when one did). Set by the retry middleware.</summary>
    public Deployment? Deployment { get; private set; }

    /// <summary>The model group that served the request (differs from the requested one after a fallback).</summary>
    public string? ModelGroup { get; private set; }

    /// <summary>The last attempt's failure (None when it answered); a failure after the first byte counts.</summary>
    public UpstreamFailureKind FailureKind { get; private set; }

    public int AttemptedRetries { get; set; }

    public int AttemptedFallbacks { get; set; }

    /// <summary>Usage of the answer: the upstream's usage block, the cached answer's, or the mock's; null when unknown.</summary>
    public int? PromptTokens { get; private set; }

    public int? CompletionTokens { get; private set; }

    /// <summary>Rerank search units billed (Cohere's meta.billed_units.search_units, else 1 per request); null for other calls.</summary>
    public int? SearchUnits { get; private set; }

    /// <summary>Seconds of audio in a transcription or translation (the upstream's duration, else the WAV header's); null when unknown.</summary>
    public double? AudioSeconds { get; private set; }

    /// <summary>usage.prompt_tokens_details.cached_tokens of the answer; null when the upstream did not report it.</summary>
    public int? CachedPromptTokens { get; private set; }

    /// <summary>Cost of the answer in USD from usage and the deployment's prices; 0 for cache hits; null when unknown.</summary>
    public double? ResponseCost { get; set; }

    /// <summary>The answer came from the response cache (no deployment was called).</summary>
    public bool CacheHit { get; private set; }

    /// <summary>The cache key of the request when caching applied to it.</summary>
    public string? CacheKey { get; set; }

    /// <summary>Name of the guardrail that refused the request or its answer, if one did.</summary>
    public string? BlockedByGuardrail { get; set; }

    /// <summary>The error response the client got (set by the error writer).</summary>
    public GatewayError? AnsweredError { get; set; }

    /// <summary>An error that ended an answer already under way (a broken stream, a tap's refusal after the first byte).</summary>
    public GatewayError? LateError { get; private set; }

    /// <summary>The virtual key's budget and limits after this request (set by pricing); null for other callers.</summary>
    public KeyUsageSnapshot? Key { get; set; }

    /// <summary>Why the router chose the deployment (e.g. "prefix-hit 12 blocks"); null when no strategy explained it.</summary>
    public string? RoutingDecision { get; set; }

    public bool Failed => FailureKind != UpstreamFailureKind.None || AnsweredError is not null || LateError is not null;

    public void SetUsage(int? promptTokens, int? completionTokens, int? cachedPromptTokens = null)
    {
        PromptTokens = promptTokens;
        CompletionTokens = completionTokens;
        CachedPromptTokens = cachedPromptTokens;
    }

    /// <summary>What the answer is billed by besides tokens (rerank search units, audio seconds).</summary>
    public void SetBilledUnits(int? searchUnits, double? audioSeconds)
    {
        SearchUnits = searchUnits;
        AudioSeconds = audioSeconds;
    }

    public void CacheHitServed(int? promptTokens, int? completionTokens)
    {
        CacheHit = true;
        ResponseCost = 0;
        SetUsage(promptTokens, completionTokens);
    }

    public void EndedLate(GatewayError error) => LateError ??= error;

    /// <summary>The router is done: the last attempt is the request's.</summary>
    public void Finish(AttemptContext last)
    {
        Deployment = last.Deployment;
        ModelGroup = last.ModelGroup;
        FailureKind = last.FailureKind;
    }
}
