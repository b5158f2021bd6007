using Proxy.Abstractions;

namespace Proxy.Transforms.Usage;

/// <summary>
/// Watches a rerank or audio answer for what it is billed by (see <see cref="BilledUnits"/>), keeping only its first
/// and last bytes, and puts it on the outcome before the cost is computed (it is registered before the cost tap).
/// </summary>
internal sealed class BilledUnitsTap(GatewayRequestContext request) : IResponseTap
{
    private const int Keep = 4096;

    private readonly byte[] _head = new byte[Keep];
    private readonly byte[] _tail = new byte[Keep];
    private int _headLength;
    private int _tailLength;

    public bool HoldsBody => false;

    public ValueTask<GatewayError?> OnDataAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var span = data.Span;
        if (_headLength < Keep)
        {
            var take = Math.Min(Keep - _headLength, span.Length);
            span[..take].CopyTo(_head.AsSpan(_headLength));
            _headLength += take;
        }

        if (span.Length >= Keep)
        {
            span[^Keep..].CopyTo(_tail);
            _tailLength = Keep;
        }
        else
        {
            // Slide: keep the newest Keep bytes.
            var keepOld = Math.Min(_tailLength, Keep - span.Length);
            _tail.AsSpan(_tailLength - keepOld, keepOld).CopyTo(_tail);
            span.CopyTo(_tail.AsSpan(keepOld));
            _tailLength = keepOld + span.Length;
        }

        return default;
    }

    public ValueTask<GatewayError?> OnCompletedAsync(CancellationToken cancellationToken)
    {
        var head = _head.AsSpan(0, _headLength);
        var tail = _tail.AsSpan(0, _tailLength);
        var outcome = request.Outcome;
        if (request.Endpoint == OpenAiEndpoint.Rerank)
        {
            var units = Find(head, tail, "\"search_units\""u8);
            if (outcome.PromptTokens is null && Find(head, tail, "\"total_tokens\""u8) is { } total)
            {
                outcome.SetUsage((int)Math.Min(total, int.MaxValue), 0);
            }

            // LiteLLM: Cohere bills one search unit per request when the answer does not say.
            outcome.SetBilledUnits((int)Math.Min(units ?? 1, int.MaxValue), outcome.AudioSeconds);
        }
        else if (outcome.AudioSeconds is null)
        {
            // The recording's own length (its WAV header) was set when the request was read; otherwise the answer's.
            var seconds = Find(head, tail, "\"duration\""u8) ?? Find(head, tail, "\"seconds\""u8);
            outcome.SetBilledUnits(outcome.SearchUnits, seconds);
        }

        return default;
    }

    public void OnAborted()
    {
    }

    private static double? Find(ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail, ReadOnlySpan<byte> name) =>
        BilledUnits.Number(head, name) ?? BilledUnits.Number(tail, name);
}
