namespace Proxy.Abstractions;

/// <summary>
/// One call to one deployment: which, when, and how it failed. The retry middleware starts each attempt
/// (<see cref="Begin"/>), the forwarder names its deployment (<see cref="Start"/>), the transformer and copier record
/// the upstream's answer, and the cooldown policy whether it took the deployment out. One instance per request, reset
/// for each attempt, so a retry allocates nothing.
/// </summary>
public sealed class AttemptContext
{
    /// <summary>1 for the first attempt; 0 before any.</summary>
    public int Number { get; private set; }

    /// <summary>The model group this attempt serves (a fallback's group after a fallback).</summary>
    public string? ModelGroup { get; private set; }

    /// <summary>The deployment called; null until the forwarder starts the call (or when none could be picked).</summary>
    public Deployment? Deployment { get; private set; }

    /// <summary>When the call was handed to the forwarder (TimeProvider ticks); 0 before.</summary>
    public long StartTimestamp { get; private set; }

    /// <summary>When the upstream's response headers arrived; 0 when they did not.</summary>
    public long HeadersTimestamp { get; private set; }

    public UpstreamFailureKind FailureKind { get; private set; }

    /// <summary>Why the attempt failed, in the client's terms; null while it has not.</summary>
    public GatewayError? Error { get; private set; }

    public bool Failed => FailureKind != UpstreamFailureKind.None;

    /// <summary>The cooldown policy took this attempt's deployment out of rotation.</summary>
    public bool CooledDown { get; private set; }

    /// <summary>
    /// The attempt was answered by a mock (mock_response, mock_testing_*), not by the deployment: its outcome must not
    /// reach cooldown, deployment statistics or other replicas, or one tenant's test could take a group out for all.
    /// </summary>
    public bool Simulated { get; private set; }

    /// <summary>
    /// Client headers went upstream with this attempt (forward_client_headers_to_llm_api, x-pass-*): a 401/403 may be
    /// about them, so it is no fact about the deployment's own credentials.
    /// </summary>
    public bool ForwardedClientHeaders { get; private set; }

    /// <summary>
    /// This attempt's answer is already in the client's protocol (a deployment that speaks it natively answered), so the
    /// protocol's response translator leaves it alone and the cache (which keeps chat) does not store it.
    /// </summary>
    public bool AnswerInClientProtocol { get; private set; }

    /// <summary>A new attempt on <paramref name="modelGroup"/>: forgets everything about the previous one.</summary>
    public void Begin(string modelGroup)
    {
        Number++;
        ModelGroup = modelGroup;
        Deployment = null;
        StartTimestamp = 0;
        HeadersTimestamp = 0;
        FailureKind = UpstreamFailureKind.None;
        Error = null;
        CooledDown = false;
        Simulated = false;
        ForwardedClientHeaders = false;
        AnswerInClientProtocol = false;
    }

    public void Start(Deployment deployment, long timestamp)
    {
        Deployment = deployment;
        StartTimestamp = timestamp;
    }

    public void HeadersArrived(long timestamp) => HeadersTimestamp = timestamp;

    /// <summary>Records why the attempt failed; the first failure recorded is the one kept.</summary>
    public void Fail(UpstreamFailureKind kind, GatewayError error)
    {
        if (FailureKind != UpstreamFailureKind.None)
        {
            return;
        }

        FailureKind = kind;
        Error = error;
    }

    /// <summary>A failure after the answer started (the stream broke): only its kind, the error went to the client.</summary>
    public void FailAfterStart(UpstreamFailureKind kind) => FailureKind = FailureKind == UpstreamFailureKind.None ? kind : FailureKind;

    public void MarkCooledDown() => CooledDown = true;

    public void MarkSimulated() => Simulated = true;

    public void MarkForwardedClientHeaders() => ForwardedClientHeaders = true;

    public void MarkAnswerInClientProtocol() => AnswerInClientProtocol = true;
}
