namespace Proxy.Transforms.Body;

/// <summary>LiteLLM's <c>mock_testing_*</c> / <c>mock_timeout</c> request flags, used to exercise fallbacks without an upstream.</summary>
[Flags]
public enum MockFlags
{
    None = 0,
    TestingFallbacks = 1,
    TestingRateLimitError = 2,
    TestingContextWindowFallbacks = 4,
    TestingContentPolicyFallbacks = 8,
    Timeout = 16,
}
