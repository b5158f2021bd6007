using Microsoft.Extensions.Logging;
using Proxy.Abstractions;

namespace Proxy.Transforms.Guardrails;

/// <summary>Runs one guardrail on one text and turns the outcome into "go on" (null) or the error to answer with.</summary>
public sealed class GuardrailChecker(GuardBackendClient client, GuardrailStats stats, TimeProvider time, ILogger<GuardrailChecker> logger)
{
    public async Task<GatewayError?> RunAsync(
        GuardrailDefinition guardrail, IReadOnlyList<GuardMessage> conversation, bool assessAgent, GatewayRequestContext request,
        CancellationToken cancellationToken)
    {
        var counters = stats.For(guardrail.Name);
        counters.Check();
        var start = time.GetTimestamp();
        var call = await client.CheckAsync(guardrail, conversation, assessAgent, cancellationToken);
        var stage = assessAgent ? "answer" : "input";
        if (call.Result is { } result)
        {
            if (!result.Flagged)
            {
                counters.Pass();
                GuardrailLog.Passed(logger, guardrail.Name, stage, request.CallId, time.GetElapsedTime(start).TotalMilliseconds);
                return null;
            }

            counters.Block();
            request.Outcome.BlockedByGuardrail ??= guardrail.Name;
            if (logger.IsEnabled(LogLevel.Information))
            {
                GuardrailLog.Blocked(logger, guardrail.Name, stage, request.CallId, string.Join(',', result.ViolatedCategories()));
            }

            return GuardrailErrors.Blocked(guardrail, result);
        }

        var reason = call.Failure ?? "no verdict";
        counters.Failure(guardrail.FailOpen);
        if (guardrail.FailOpen)
        {
            GuardrailLog.FailedOpen(logger, guardrail.Name, request.CallId, reason);
            return null;
        }

        GuardrailLog.FailedClosed(logger, guardrail.Name, request.CallId, reason);
        return GuardrailErrors.Unavailable(guardrail, reason);
    }
}
