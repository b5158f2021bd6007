using Proxy.Abstractions;

namespace Proxy.Host.Observability;

/// <summary>
/// One Information line per request once it is done: call id, method, path, status, key alias, model groups,
/// deployment, tokens, cost, cache hit and latency. Category <c>Proxy.Access</c>; LITELLM_LOG=WARNING silences it.
/// With json_logs every value is its own JSON property.
/// </summary>
internal sealed partial class AccessLog(ILoggerFactory loggers, TimeProvider time) : IRequestCompletionObserver
{
    private readonly ILogger _logger = loggers.CreateLogger("Proxy.Access");

    public void OnCompleted(HttpContext context, GatewayRequestContext request)
    {
        // Scrapes and probes arrive every few seconds and say nothing about traffic: logged only when debugging.
        var level = request.ModelGroup is null && IsProbe(context.Request.Path) ? LogLevel.Debug : LogLevel.Information;
        if (!_logger.IsEnabled(level))
        {
            return;
        }

        var latencyMs = time.GetElapsedTime(request.StartTimestamp).TotalMilliseconds;
        Log.Request(
            _logger, level, request.CallId, context.Request.Method, context.Request.Path.Value ?? "", context.Response.StatusCode,
            request.KeyAlias ?? (request.KeyHash is { } hash ? hash[..Math.Min(12, hash.Length)] : request.IsMasterKey ? "master" : "-"),
            request.RequestedModelGroup ?? request.ModelGroup ?? "-", request.ModelGroup ?? "-", request.Deployment?.Id ?? "-",
            request.PromptTokens ?? 0, request.CompletionTokens ?? 0, request.ResponseCost ?? 0, request.CacheHit,
            request.AttemptedRetries, request.AttemptedFallbacks, Math.Round(latencyMs, 3), request.AnsweredError?.Type ?? "-");
    }

    private static bool IsProbe(PathString path) =>
        path.Equals("/metrics", StringComparison.Ordinal) || path.StartsWithSegments("/health/liveliness", StringComparison.Ordinal)
        || path.StartsWithSegments("/health/liveness", StringComparison.Ordinal) || path.StartsWithSegments("/health/readiness", StringComparison.Ordinal);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1500, Message =
            "{CallId} {Method} {Path} {Status} key={KeyAlias} requested_model={RequestedModel} model_group={ModelGroup} deployment={ModelId} " +
            "prompt_tokens={PromptTokens} completion_tokens={CompletionTokens} cost={ResponseCost} cache_hit={CacheHit} retries={Retries} " +
            "fallbacks={Fallbacks} latency_ms={LatencyMs} error={ErrorType}")]
        public static partial void Request(
            ILogger logger, LogLevel level, string callId, string method, string path, int status, string keyAlias, string requestedModel, string modelGroup,
            string modelId, int promptTokens, int completionTokens, double responseCost, bool cacheHit, int retries, int fallbacks,
            double latencyMs, string errorType);
    }
}
