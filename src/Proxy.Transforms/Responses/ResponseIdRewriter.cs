using System.Buffers;
using Proxy.Transforms.Protocols;
using Proxy.Transforms.Streaming;

namespace Proxy.Transforms.Responses;

/// <summary>
/// Rewrites the response ids in a Responses API answer as it is copied to the client: every <c>"id"</c> and
/// <c>"previous_response_id"</c> whose value is an upstream response id (<c>resp_…</c>, not already one of ours) becomes
/// the id that names its deployment (<see cref="ResponseIdCodec"/>), so the client sees one id for a response in the
/// JSON answer, in every stream event and in a later GET. Item ids (<c>msg_</c>, <c>fc_</c>, …) are left alone. A stream
/// is rewritten event by event as events complete (nothing held beyond an incomplete event); a JSON body once whole.
/// One per response; not thread-safe. Without a deployment (a cached answer) the body passes through unchanged.
/// </summary>
public sealed class ResponseIdRewriter(string? provider, string? deploymentId, bool stream) : IResponseBodyTranslator, IDisposable
{
    private static ReadOnlySpan<byte> IdName => "\"id\""u8;

    private static ReadOnlySpan<byte> PreviousName => "\"previous_response_id\""u8;

    private static ReadOnlySpan<byte> EventEnd => "\n\n"u8;

    private readonly ArrayPoolBufferWriter _pending = new();
    private byte[]? _lastUpstream;
    private byte[]? _lastEncoded;

    /// <summary>Takes the next piece of the upstream body; writes the events it completes (streams only).</summary>
    public void Write(ReadOnlySpan<byte> piece, IBufferWriter<byte> output)
    {
        if (deploymentId is null)
        {
            output.Write(piece);
            return;
        }

        if (!stream)
        {
            _pending.Write(piece);
            return;
        }

        if (_pending.WrittenCount == 0)
        {
            var end = piece.LastIndexOf(EventEnd);
            if (end < 0)
            {
                _pending.Write(piece);
                return;
            }

            Rewrite(piece[..(end + 2)], output);
            _pending.Write(piece[(end + 2)..]);
            return;
        }

        _pending.Write(piece);
        var held = _pending.WrittenSpan;
        var last = held.LastIndexOf(EventEnd);
        if (last < 0)
        {
            return;
        }

        Rewrite(held[..(last + 2)], output);
        var rest = held[(last + 2)..].ToArray();
        _pending.ResetWrittenCount();
        _pending.Write(rest);
    }

    /// <summary>The upstream body ended: writes what is held (a JSON body, or a stream's unterminated tail).</summary>
    public void Complete(IBufferWriter<byte> output)
    {
        Rewrite(_pending.WrittenSpan, output);
        _pending.ResetWrittenCount();
    }

    public void Dispose() => _pending.Dispose();

    /// <summary>Copies <paramref name="text"/> to <paramref name="output"/> with every upstream response id replaced.</summary>
    internal void Rewrite(ReadOnlySpan<byte> text, IBufferWriter<byte> output)
    {
        var copied = 0;
        var at = 0;
        while (at < text.Length)
        {
            var next = text[at..].IndexOf((byte)'"');
            if (next < 0)
            {
                break;
            }

            var start = at + next;
            if (TryMatchValue(text, start, out var valueStart, out var valueEnd))
            {
                output.Write(text[copied..valueStart]);
                WriteEncoded(text[valueStart..valueEnd], output);
                copied = valueEnd;
                at = valueEnd + 1;
                continue;
            }

            at = start + 1;
        }

        output.Write(text[copied..]);
    }

    // At a quote that opens "id" or "previous_response_id" as a member name (the byte before it is '{', ',' or space,
    // which never precedes a quote inside a string: there it would be a backslash), followed by ':' and a string value
    // starting with resp_: the value's range without its quotes.
    private static bool TryMatchValue(ReadOnlySpan<byte> text, int quote, out int valueStart, out int valueEnd)
    {
        valueStart = valueEnd = 0;
        if (quote > 0 && text[quote - 1] is not ((byte)'{' or (byte)',' or (byte)' ' or (byte)'\n' or (byte)'\t' or (byte)'\r'))
        {
            return false;
        }

        var rest = text[quote..];
        int nameLength;
        if (rest.StartsWith(IdName))
        {
            nameLength = IdName.Length;
        }
        else if (rest.StartsWith(PreviousName))
        {
            nameLength = PreviousName.Length;
        }
        else
        {
            return false;
        }

        var i = quote + nameLength;
        i = SkipSpace(text, i);
        if (i >= text.Length || text[i] != ':')
        {
            return false;
        }

        i = SkipSpace(text, i + 1);
        if (i >= text.Length || text[i] != '"' || !text[(i + 1)..].StartsWith("resp_"u8))
        {
            return false;
        }

        var close = text[(i + 1)..].IndexOfAny((byte)'"', (byte)'\\');
        if (close < 0 || text[i + 1 + close] != '"')
        {
            return false;
        }

        valueStart = i + 1;
        valueEnd = i + 1 + close;
        return true;
    }

    private static int SkipSpace(ReadOnlySpan<byte> text, int i)
    {
        while (i < text.Length && text[i] is (byte)' ' or (byte)'\n' or (byte)'\t' or (byte)'\r')
        {
            i++;
        }

        return i;
    }

    private void WriteEncoded(ReadOnlySpan<byte> upstreamId, IBufferWriter<byte> output)
    {
        // Ids are ASCII; one response repeats its id in every event, so the last encoding is kept.
        if (_lastUpstream is not null && upstreamId.SequenceEqual(_lastUpstream))
        {
            output.Write(_lastEncoded);
            return;
        }

        var id = System.Text.Encoding.UTF8.GetString(upstreamId);
        if (ResponseIdCodec.TryDecode(id, out _))
        {
            // Already ours (a deployment that echoes what it was sent): left as it is.
            output.Write(upstreamId);
            return;
        }

        _lastUpstream = upstreamId.ToArray();
        _lastEncoded = System.Text.Encoding.ASCII.GetBytes(ResponseIdCodec.Encode(provider!, deploymentId!, id));
        output.Write(_lastEncoded);
    }
}
