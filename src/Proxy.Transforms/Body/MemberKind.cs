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

    /// <summary>LiteLLM's metadata: stripped, its value's position kept (metadata.tags routes too) and its session_id read.</summary>
    Metadata,

    // Members that make up the prompt, forwarded untouched; their ranges feed the prefix-cache block hashes. Same order
    // as PromptPart.
    Tools,
    ResponseFormat,
    CacheSalt,
    System,
    Instructions,

    /// <summary><c>messages</c>, <c>prompt</c>, <c>input</c>: forwarded, but refused when sent twice (a guard and the upstream could read different copies).</summary>
    Messages,
    Prompt,
    Input,

    /// <summary><c>previous_response_id</c> (Responses API): forwarded, its value read and its range recorded.</summary>
    PreviousResponseId,

    /// <summary>LiteLLM-only field with no value we need: removed, never read.</summary>
    Strip,
}
