using Proxy.Abstractions;
using Proxy.Transforms.Streaming;

namespace Proxy.Transforms.Usage;

/// <summary>
/// Watches the bytes of one upstream response as they are copied to the client and learns its token usage without
/// buffering the body: it keeps the last <see cref="TailCapacity"/> bytes in a ring and, for event streams, counts
/// content events as they pass. One per request; poolable through <see cref="Reset"/>. Not thread-safe.
/// </summary>
/// <remarks>
/// OpenAI-compatible servers put <c>usage</c> at the end: last member of a JSON body, and a final
/// <c>{"choices":[],"usage":{...}}</c> event before <c>data: [DONE]</c> in a stream. So the tail holds it, and nothing
/// is parsed until the end. <see cref="Observe"/> allocates nothing.
/// </remarks>
public sealed class UsageObserver
{
    // Bytes of the response kept for the final parse; a usage object and the events after it fit easily.
    internal const int TailCapacity = 2048;

    // "content":"x and "text":"x with x not a quote: a chunk carrying text. The content marker has no leading quote
    // so that vLLM's "reasoning_content" counts too: reasoning tokens are completion tokens.
    private static ReadOnlySpan<byte> ContentMarker => "content\":\""u8;

    private static ReadOnlySpan<byte> TextMarker => "\"text\":\""u8;

    private static ReadOnlySpan<byte> UsageName => "\"usage\""u8;

    private static ReadOnlySpan<byte> EmptyChoices => "\"choices\":[]"u8;

    // The longest marker: a marker split across two chunks starts within this many bytes of the previous chunk's end.
    private const int CarryCapacity = 10;

    private readonly byte[] _tail = new byte[TailCapacity];
    private readonly byte[] _head = new byte[TailCapacity];
    private int _headLength;
    private bool _anthropicEvents;
    private readonly byte[] _carry = new byte[CarryCapacity];
    private int _tailStart;
    private int _tailLength;
    private int _carryLength;
    private bool _isEventStream;

    /// <summary>Hides the usage chunk from a client that did not ask for it; reset with the observer.</summary>
    public UsageChunkFilter ChunkFilter { get; } = new();

    /// <summary>Total bytes observed since <see cref="Reset"/>; 0 until the first byte arrives.</summary>
    public long BytesObserved { get; private set; }

    /// <summary>Content events seen in an event stream (≈ completion tokens for vLLM, which sends one token per event).</summary>
    public int ContentEvents { get; private set; }

    /// <summary>
    /// True when the usage found by <see cref="TryGetUsage"/> came in a usage-only event (<c>"choices":[]</c>); the
    /// gateway uses this to hide a usage event the client did not ask for.
    /// </summary>
    public bool SawUsageOnlyChunk { get; private set; }

    /// <param name="anthropic">The body is in Anthropic's Messages shape (a native pass-through): a stream reports its
    /// input tokens in message_start, at the head, and its output tokens in message_delta, at the tail.</param>
    public void Reset(bool isEventStream, bool hideUsageChunk = false, bool anthropic = false)
    {
        ChunkFilter.Reset(isEventStream && hideUsageChunk);
        _isEventStream = isEventStream;
        _anthropicEvents = anthropic && isEventStream;
        _headLength = 0;
        _tailStart = 0;
        _tailLength = 0;
        _carryLength = 0;
        BytesObserved = 0;
        ContentEvents = 0;
        SawUsageOnlyChunk = false;
    }

    /// <summary>Called with every chunk written to the client, in order.</summary>
    public void Observe(ReadOnlySpan<byte> chunk)
    {
        if (chunk.IsEmpty)
        {
            return;
        }

        BytesObserved += chunk.Length;
        if (_anthropicEvents && _headLength < TailCapacity)
        {
            var keep = Math.Min(chunk.Length, TailCapacity - _headLength);
            chunk[..keep].CopyTo(_head.AsSpan(_headLength));
            _headLength += keep;
        }

        if (_isEventStream)
        {
            ContentEvents += CountMarkers(chunk, ContentMarker) + CountMarkers(chunk, TextMarker);
            KeepCarry(chunk);
        }

        AppendToTail(chunk);
    }

    /// <summary>
    /// Parses the last complete, non-null <c>"usage":{...}</c> object in the tail. Returns false when there is none
    /// (<c>"usage":null</c> means none). Allocates nothing.
    /// </summary>
    public bool TryGetUsage(out TokenUsage usage)
    {
        var tail = LinearizeTail();
        var end = tail.Length;
        while (end > 0)
        {
            var at = tail[..end].LastIndexOf(UsageName);
            if (at < 0)
            {
                break;
            }

            // Inside a JSON string the quotes would be escaped, so a match is a member name (or a value "usage",
            // which no colon follows); text that merely mentions usage never gets here.
            end = at;
            if (UsageParser.TryParse(tail[(at + UsageName.Length)..], out usage))
            {
                SawUsageOnlyChunk = _isEventStream && EventAround(tail, at).IndexOf(EmptyChoices) >= 0;
                return true;
            }
        }

        usage = default;
        SawUsageOnlyChunk = false;
        return false;
    }

    /// <summary>Puts the usage on the request: the usage block when there is one, else (streams) one token per content event.</summary>
    public void RecordUsage(GatewayRequestContext request)
    {
        if (TryGetUsage(out var usage))
        {
            var prompt = usage.PromptTokens;
            if (_anthropicEvents && prompt == 0 && TryGetHeadUsage(out var start))
            {
                // message_delta carries output tokens only (older API versions); the prompt was counted in message_start.
                prompt = start.PromptTokens;
            }

            request.Outcome.SetUsage(prompt, usage.CompletionTokens, usage.ReportsCachedTokens ? usage.CachedPromptTokens : null);
        }
        else if (_isEventStream)
        {
            // vLLM streams one token per chunk; without a usage chunk that is the best count there is.
            request.Outcome.SetUsage(request.EstimatedInputTokens, ContentEvents);
        }
    }

    private bool TryGetHeadUsage(out TokenUsage usage)
    {
        var head = _head.AsSpan(0, _headLength);
        var at = head.IndexOf(UsageName);
        if (at >= 0 && UsageParser.TryParse(head[(at + UsageName.Length)..], out usage))
        {
            return true;
        }

        usage = default;
        return false;
    }

    private void AppendToTail(ReadOnlySpan<byte> chunk)
    {
        if (chunk.Length >= TailCapacity)
        {
            chunk[^TailCapacity..].CopyTo(_tail);
            _tailStart = 0;
            _tailLength = TailCapacity;
            return;
        }

        var write = (_tailStart + _tailLength) % TailCapacity;
        var first = Math.Min(chunk.Length, TailCapacity - write);
        chunk[..first].CopyTo(_tail.AsSpan(write));
        chunk[first..].CopyTo(_tail);
        var length = _tailLength + chunk.Length;
        if (length > TailCapacity)
        {
            // Full: the oldest bytes were overwritten, so the ring now starts where the write ended.
            _tailStart = (_tailStart + length - TailCapacity) % TailCapacity;
            length = TailCapacity;
        }

        _tailLength = length;
    }

    /// <summary>Rotates the ring in place so the tail reads in order from index 0 (three reversals, no copy buffer).</summary>
    private ReadOnlySpan<byte> LinearizeTail()
    {
        if (_tailStart != 0)
        {
            // The ring only wraps once full, so the whole array is in use.
            var ring = _tail.AsSpan();
            ring[.._tailStart].Reverse();
            ring[_tailStart..].Reverse();
            ring.Reverse();
            _tailStart = 0;
        }

        return _tail.AsSpan(0, _tailLength);
    }

    /// <summary>
    /// Counts <paramref name="marker"/> followed by a byte other than a quote (non-empty text), including a marker
    /// split across the previous chunk and this one, each exactly once.
    /// </summary>
    private int CountMarkers(ReadOnlySpan<byte> chunk, ReadOnlySpan<byte> marker)
    {
        var count = 0;
        // A match (marker plus the byte after it) that ends in this chunk but starts in the last marker.Length bytes
        // before it; one that also ended before this chunk would have had to start earlier, so none is counted twice.
        var carried = Math.Min(_carryLength, marker.Length);
        // Usually an event ends in "}\n\n" and no marker can start in the carry: skip the window then.
        if (carried > 0 && _carry.AsSpan(_carryLength - carried, carried).Contains(marker[0]))
        {
            Span<byte> joined = stackalloc byte[2 * CarryCapacity];
            _carry.AsSpan(_carryLength - carried, carried).CopyTo(joined);
            var head = chunk[..Math.Min(chunk.Length, marker.Length)];
            head.CopyTo(joined[carried..]);
            var window = joined[..(carried + head.Length)];
            for (var start = 0; start < carried; start++)
            {
                if (IsTextAt(window, start, marker))
                {
                    count++;
                }
            }
        }

        var offset = 0;
        while (true)
        {
            var found = chunk[offset..].IndexOf(marker);
            if (found < 0)
            {
                return count;
            }

            var next = offset + found + marker.Length;
            if (next >= chunk.Length)
            {
                // The byte that decides is in the next chunk; the carry counts it then.
                return count;
            }

            if (chunk[next] != (byte)'"')
            {
                count++;
            }

            offset = next;
        }
    }

    private static bool IsTextAt(ReadOnlySpan<byte> window, int start, ReadOnlySpan<byte> marker)
    {
        var next = start + marker.Length;
        return next < window.Length && window[start..].StartsWith(marker) && window[next] != (byte)'"';
    }

    private void KeepCarry(ReadOnlySpan<byte> chunk)
    {
        if (chunk.Length >= CarryCapacity)
        {
            chunk[^CarryCapacity..].CopyTo(_carry);
            _carryLength = CarryCapacity;
            return;
        }

        var keep = Math.Min(_carryLength, CarryCapacity - chunk.Length);
        _carry.AsSpan(_carryLength - keep, keep).CopyTo(_carry);
        chunk.CopyTo(_carry.AsSpan(keep));
        _carryLength = keep + chunk.Length;
    }

    /// <summary>The SSE event around <paramref name="at"/>: from the last <c>data:</c> before it to the blank line after.</summary>
    private static ReadOnlySpan<byte> EventAround(ReadOnlySpan<byte> tail, int at)
    {
        var start = tail[..at].LastIndexOf("data:"u8);
        var after = tail[at..].IndexOf("\n\n"u8);
        var end = after < 0 ? tail.Length : at + after;
        return tail[(start < 0 ? 0 : start)..end];
    }
}
