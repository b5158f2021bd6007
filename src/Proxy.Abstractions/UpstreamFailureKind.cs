namespace Proxy.Abstractions;

/// <summary>How an upstream attempt failed, in the classes LiteLLM's retry policy and fallbacks distinguish.</summary>
public enum UpstreamFailureKind
{
    None,
    BadRequest,
    ContextWindowExceeded,
    ContentPolicyViolation,
    Authentication,
    PermissionDenied,
    NotFound,
    Timeout,
    RateLimit,
    InternalServer,
    ServiceUnavailable,
    Connection,
}
