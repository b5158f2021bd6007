namespace Proxy.Transforms.Body;

/// <summary>How the scanner treats one top-level member name.</summary>
internal enum MemberKind : byte
{
    /// <summary>Forwarded untouched: the common case (messages, temperature, tools, ...).</summary>
    Other,
    Model,
    Stream,
    StreamOptions,
    MockResponse,
    MockTestingFallbacks,
    MockTestingRateLimitError,
    MockTestingContextWindowFallbacks,
    MockTestingContentPolicyFallbacks,
    MockTimeout,
    Timeout,
    NumRetries,
    DisableFallbacks,

    /// <summary><c>messages</c>, <c>prompt</c>, <c>input</c>: forwarded, but refused when sent twice (a guard and the upstream could read different copies).</summary>
    Messages,
    Prompt,
    Input,

    /// <summary><c>previous_response_id</c> (Responses API): forwarded, its value read and its range recorded.</summary>
    PreviousResponseId,

    /// <summary>LiteLLM-only field with no value we need: removed, never read.</summary>
    Strip,
}
