using Microsoft.Extensions.Logging;

namespace Proxy.Transforms.Guardrails;

/// <summary>Guardrail log events (Transforms range, 22xx). Texts and keys are never logged.</summary>
internal static partial class GuardrailLog
{
    [LoggerMessage(2201, LogLevel.Information, "Guardrail {Guardrail} blocked the {Stage} of call {CallId}: {Categories}")]
    public static partial void Blocked(ILogger logger, string guardrail, string stage, string callId, string categories);

    [LoggerMessage(2202, LogLevel.Warning, "Guardrail {Guardrail} failed on call {CallId} ({Reason}); failing open: the request goes through unchecked")]
    public static partial void FailedOpen(ILogger logger, string guardrail, string callId, string reason);

    [LoggerMessage(2203, LogLevel.Error, "Guardrail {Guardrail} failed on call {CallId} ({Reason}); failing closed: the request is refused with 503")]
    public static partial void FailedClosed(ILogger logger, string guardrail, string callId, string reason);

    [LoggerMessage(2204, LogLevel.Debug, "Guardrail {Guardrail} passed the {Stage} of call {CallId} in {Milliseconds} ms")]
    public static partial void Passed(ILogger logger, string guardrail, string stage, string callId, double milliseconds);
}
