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

    /// <summary>LiteLLM's request tags: stripped, its value's position kept for tag routing.</summary>
    Tags,

    /// <summary>LiteLLM's metadata (metadata.tags routes too): stripped, its value's position kept.</summary>
    Metadata,

    /// <summary>LiteLLM-only field with no value we need: removed, never read.</summary>
    Strip,
}
