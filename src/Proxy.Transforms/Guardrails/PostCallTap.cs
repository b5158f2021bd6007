using Proxy.Abstractions;
using Proxy.Transforms.Streaming;

namespace Proxy.Transforms.Guardrails;

/// <summary>
/// post_call: judges the model's answer before the client has it. A JSON answer is held whole (the copier holds it
/// because <see cref="HoldsBody"/>) and checked when complete. A stream flows as it arrives while its text is collected;
/// the piece that carries <c>data: [DONE]</c> waits for the check (and, with <c>streaming_sampling_rate</c>, every Nth
/// content event waits for a check of the text so far), so a flagged stream ends with an SSE error event
/// instead of a clean end (what was already sent cannot be taken back; LiteLLM's streaming check is no stricter).
/// Every choice, reasoning text and tool-call argument is judged (<see cref="AnswerText"/>); an answer that cannot be
/// read fails closed.
/// </summary>
internal sealed class PostCallTap(
    GuardrailChecker checker, GuardrailDefinition guardrail, IReadOnlyList<GuardMessage> conversation, GatewayRequestContext request) : IGuardrailTap
{
    private ArrayPoolBufferWriter? _body;
    private SseTextCollector? _stream;
    private bool _checked;
    private int _sampledAt;

    public bool HoldsBody => true;

    public ValueTask<GatewayError?> OnDataAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (!request.Stream)
        {
            _body ??= new ArrayPoolBufferWriter();
            data.Span.CopyTo(_body.GetSpan(data.Length));
            _body.Advance(data.Length);
            return default;
        }

        _stream ??= new SseTextCollector();
        if (_stream.Feed(data.Span))
        {
            return _stream.Unreadable ? Unreadable() : CheckAsync(_stream.Text, cancellationToken);
        }

        // Sampled checks as the text grows hold only the piece that triggers them.
        var rate = guardrail.StreamingSamplingRate;
        if (rate > 0 && _stream.ContentEvents - _sampledAt >= rate)
        {
            _sampledAt = _stream.ContentEvents;
            return SampleAsync(_stream.Text, cancellationToken);
        }

        return default;
    }

    public ValueTask<GatewayError?> OnCompletedAsync(CancellationToken cancellationToken)
    {
        if (_checked)
        {
            return default;
        }

        if (request.Stream)
        {
            return _stream is { Unreadable: true } ? Unreadable() : CheckAsync(_stream?.Text ?? string.Empty, cancellationToken);
        }

        string text;
        try
        {
            text = _body is null ? string.Empty : AnswerText.Read(_body.WrittenMemory.Span);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException)
        {
            return Unreadable();
        }
        finally
        {
            _body?.Dispose();
            _body = null;
        }

        return CheckAsync(text, cancellationToken);
    }

    // An answer the guard cannot be shown is not released (the guard's fail_open applies to its backend, not to this).
    private ValueTask<GatewayError?> Unreadable()
    {
        _checked = true;
        return ValueTask.FromResult<GatewayError?>(GuardrailErrors.Unavailable(guardrail, "the answer could not be read to judge it"));
    }

    public void OnAborted()
    {
        _body?.Dispose();
        _body = null;
    }

    private ValueTask<GatewayError?> CheckAsync(string answer, CancellationToken cancellationToken)
    {
        _checked = true;
        return SampleAsync(answer, cancellationToken);
    }

    private ValueTask<GatewayError?> SampleAsync(string answer, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(answer))
        {
            // An empty answer: nothing to judge.
            return default;
        }

        var turns = new List<GuardMessage>(conversation.Count + 1);
        turns.AddRange(conversation);
        turns.Add(new GuardMessage(true, answer));
        return new ValueTask<GatewayError?>(checker.RunAsync(guardrail, turns, assessAgent: true, request, cancellationToken));
    }
}
