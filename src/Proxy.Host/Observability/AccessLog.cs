using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Unicode;
using Proxy.Abstractions;

namespace Proxy.Host.Observability;

/// <summary>
/// One Information line per request once it is done: call id, method, path, status, key alias, model groups,
/// deployment, tokens, cost, cache hit and latency. Category <c>Proxy.Access</c> (its log level comes from the usual
/// filters; LITELLM_LOG=WARNING silences it). Lines look like the console logger's (single line, or its JSON object
/// with json_logs, every value its own property under State) but leave through <see cref="AccessLogWriter"/> in batches.
/// </summary>
internal sealed partial class AccessLog(ILoggerFactory loggers, TimeProvider time, AccessLogWriter writer, AccessLogFormat format) : IRequestCompletionObserver
{
    private const string Template =
        "{CallId} {Method} {Path} {Status} key={KeyAlias} requested_model={RequestedModel} model_group={ModelGroup} deployment={ModelId} " +
        "prompt_tokens={PromptTokens} completion_tokens={CompletionTokens} cost={ResponseCost} cache_hit={CacheHit} retries={Retries} " +
        "fallbacks={Fallbacks} latency_ms={LatencyMs} error={ErrorType}";

    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [ThreadStatic]
    private static Buffers? t_buffers;

    private readonly ILogger _logger = loggers.CreateLogger("Proxy.Access");

    public int Order => ObserverOrder.AccessLog;

    public void OnCompleted(HttpContext context, GatewayRequestContext request)
    {
        // Scrapes and probes arrive every few seconds and say nothing about traffic: logged only when debugging.
        var probe = request.ModelGroup is null && IsProbe(context.Request.Path);
        var level = probe ? LogLevel.Debug : LogLevel.Information;
        if (!_logger.IsEnabled(level))
        {
            return;
        }

        var caller = request.Caller;
        var outcome = request.Outcome;
        var tenant = context.Features.Get<RequestTenant>();
        var line = new Line(
            request.CallId, context.Request.Method, context.Request.Path.Value ?? "", context.Response.StatusCode,
            caller.KeyAlias ?? (caller.KeyHash is { } hash ? hash[..Math.Min(12, hash.Length)] : caller.IsMasterKey ? "master" : "-"),
            request.RequestedModel ?? request.ModelGroup ?? "-", outcome.ModelGroup ?? request.ModelGroup ?? "-", outcome.Deployment?.Id ?? "-",
            outcome.PromptTokens ?? 0, outcome.CompletionTokens ?? 0, outcome.ResponseCost ?? 0, outcome.CacheHit,
            outcome.AttemptedRetries, outcome.AttemptedFallbacks, Math.Round(time.GetElapsedTime(request.StartTimestamp).TotalMilliseconds, 3),
            outcome.AnsweredError?.Type ?? "-", tenant?.TeamId ?? "-", tenant?.UserId ?? "-");
        if (probe)
        {
            // Rare (debugging only): through the logger, like any other line.
            Log.Request(_logger, line.CallId, line.Method, line.Path, line.Status, line.KeyAlias, line.RequestedModel, line.ModelGroup, line.ModelId,
                line.PromptTokens, line.CompletionTokens, line.Cost, line.CacheHit, line.Retries, line.Fallbacks, line.LatencyMs, line.ErrorType);
            return;
        }

        var buffers = t_buffers ??= new Buffers();
        buffers.Line.ResetWrittenCount();
        if (format.Json)
        {
            WriteJson(buffers, line);
        }
        else
        {
            WriteText(buffers, line);
        }

        writer.Append(buffers.Line.WrittenSpan);
    }

    private void WriteText(Buffers buffers, in Line line)
    {
        // The simple console formatter's single-line layout: "<timestamp> info: Proxy.Access[1500] <message>".
        var output = buffers.Line;
        output.Write(Timestamp(time.GetUtcNow(), buffers.Stamp ??= new byte[32]));
        output.Write(" info: Proxy.Access[1500] "u8);
        WriteMessage(output, line);
        output.Write("\n"u8);
    }

    private void WriteJson(Buffers buffers, in Line line)
    {
        buffers.Message.ResetWrittenCount();
        WriteMessage(buffers.Message, line);
        var json = buffers.Json ??= new Utf8JsonWriter(buffers.Line, JsonOptions);
        json.Reset(buffers.Line);
        json.WriteStartObject();
        var stamp = buffers.Stamp ??= new byte[32];
        json.WriteString("Timestamp"u8, Timestamp(time.GetUtcNow(), stamp));
        json.WriteNumber("EventId"u8, 1500);
        json.WriteString("LogLevel"u8, "Information"u8);
        json.WriteString("Category"u8, "Proxy.Access"u8);
        json.WriteString("Message"u8, buffers.Message.WrittenSpan);
        json.WriteStartObject("State"u8);
        json.WriteString("Message"u8, buffers.Message.WrittenSpan);
        json.WriteString("CallId"u8, line.CallId);
        json.WriteString("Method"u8, line.Method);
        json.WriteString("Path"u8, line.Path);
        json.WriteNumber("Status"u8, line.Status);
        json.WriteString("KeyAlias"u8, line.KeyAlias);
        json.WriteString("RequestedModel"u8, line.RequestedModel);
        json.WriteString("ModelGroup"u8, line.ModelGroup);
        json.WriteString("ModelId"u8, line.ModelId);
        json.WriteNumber("PromptTokens"u8, line.PromptTokens);
        json.WriteNumber("CompletionTokens"u8, line.CompletionTokens);
        json.WriteNumber("ResponseCost"u8, line.Cost);
        json.WriteBoolean("CacheHit"u8, line.CacheHit);
        json.WriteNumber("Retries"u8, line.Retries);
        json.WriteNumber("Fallbacks"u8, line.Fallbacks);
        json.WriteNumber("LatencyMs"u8, line.LatencyMs);
        json.WriteString("ErrorType"u8, line.ErrorType);
        json.WriteString("Team"u8, line.Team);
        json.WriteString("User"u8, line.User);
        json.WriteString("{OriginalFormat}"u8, Template + " team={Team} user={User}");
        json.WriteEndObject();
        json.WriteEndObject();
        json.Flush();
        buffers.Line.Write("\n"u8);
    }

    private static void WriteMessage(ArrayBufferWriter<byte> output, in Line original)
    {
        // The message is one line of text: a decoded path ("/x%0A2026-... info: forged") or an alias must not break it.
        var line = original with
        {
            Path = LogText.Escape(original.Path),
            KeyAlias = LogText.Escape(original.KeyAlias),
            RequestedModel = LogText.Escape(original.RequestedModel),
            ModelGroup = LogText.Escape(original.ModelGroup),
            ModelId = LogText.Escape(original.ModelId),
        };
        // Sized generously: ids and names come from the config and the call id is at most 128 characters.
        var span = output.GetSpan(1024 + (line.Path.Length + line.KeyAlias.Length + line.RequestedModel.Length + line.ModelGroup.Length + line.ModelId.Length) * 3);
        if (!Utf8.TryWrite(span, CultureInfo.InvariantCulture,
            $"{line.CallId} {line.Method} {line.Path} {line.Status} key={line.KeyAlias} requested_model={line.RequestedModel} model_group={line.ModelGroup} deployment={line.ModelId} prompt_tokens={line.PromptTokens} completion_tokens={line.CompletionTokens} cost={line.Cost} cache_hit={(line.CacheHit ? "True" : "False")} retries={line.Retries} fallbacks={line.Fallbacks} latency_ms={line.LatencyMs} error={line.ErrorType} team={line.Team} user={line.User}",
            out var written))
        {
            written = 0;
        }

        output.Advance(written);
    }

    private static ReadOnlySpan<byte> Timestamp(DateTimeOffset now, Span<byte> buffer)
    {
        Utf8.TryWrite(buffer, CultureInfo.InvariantCulture, $"{now.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fff}Z", out var written);
        return buffer[..written];
    }

    private static bool IsProbe(PathString path) =>
        path.Equals("/metrics", StringComparison.Ordinal) || path.StartsWithSegments("/health/liveliness", StringComparison.Ordinal)
        || path.StartsWithSegments("/health/liveness", StringComparison.Ordinal) || path.StartsWithSegments("/health/readiness", StringComparison.Ordinal);

    private readonly record struct Line(
        string CallId, string Method, string Path, int Status, string KeyAlias, string RequestedModel, string ModelGroup, string ModelId,
        int PromptTokens, int CompletionTokens, double Cost, bool CacheHit, int Retries, int Fallbacks, double LatencyMs, string ErrorType,
        string Team = "-", string User = "-");

    private sealed class Buffers
    {
        public ArrayBufferWriter<byte> Line { get; } = new(1024);

        public ArrayBufferWriter<byte> Message { get; } = new(1024);

        public Utf8JsonWriter? Json { get; set; }

        public byte[]? Stamp { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(1500, LogLevel.Debug, Template)]
        public static partial void Request(
            ILogger logger, string callId, string method, string path, int status, string keyAlias, string requestedModel, string modelGroup,
            string modelId, int promptTokens, int completionTokens, double responseCost, bool cacheHit, int retries, int fallbacks,
            double latencyMs, string errorType);
    }
}
