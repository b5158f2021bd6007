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

    /// <summary>LiteLLM-only field with no value we need: removed, never read.</summary>
    Strip,
}
