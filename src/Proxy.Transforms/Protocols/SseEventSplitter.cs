using System.Buffers;

namespace Proxy.Transforms.Protocols;

/// <summary>
/// Splits server-sent events out of pieces that may end anywhere. A complete event inside a piece is returned in place
/// (no copy); only an event cut by the end of a piece is carried, in a pooled buffer, until the rest arrives.
/// </summary>
internal sealed class SseEventSplitter : IDisposable
{
    private byte[] _carry = [];
    private int _carryLength;
    private int _consumed;
    private int _searchFrom;

    public bool HasPartial => _carryLength - _consumed > 0;

    /// <summary>
    /// The next complete event (its lines, without the blank line that ends it), taken from the carry and then from
    /// <paramref name="input"/>, which is advanced. False when no complete event is left; the rest is carried.
    /// The returned span is valid until the next call.
    /// </summary>
    public bool Next(ref ReadOnlySpan<byte> input, out ReadOnlySpan<byte> sseEvent)
    {
        Compact();
        if (_carryLength == 0)
        {
            var end = FindEnd(input, out var terminator);
            if (end >= 0)
            {
                sseEvent = input[..end];
                input = input[(end + terminator)..];
                return true;
            }

            Append(input);
            input = default;
            sseEvent = default;
            return false;
        }

        if (!input.IsEmpty)
        {
            Append(input);
            input = default;
        }

        var carried = _carry.AsSpan(0, _carryLength);
        var found = FindEnd(carried[_searchFrom..], out var length);
        if (found < 0)
        {
            // The blank line may straddle the next piece: search again from just before the end.
            _searchFrom = Math.Max(0, _carryLength - 2);
            sseEvent = default;
            return false;
        }

        var at = _searchFrom + found;
        sseEvent = carried[..at];
        _consumed = at + length;
        _searchFrom = 0;
        return true;
    }

    /// <summary>What is carried when the source ends: an event without its closing blank line.</summary>
    public ReadOnlySpan<byte> TakeRest()
    {
        Compact();
        var rest = _carry.AsSpan(0, _carryLength);
        _consumed = _carryLength;
        return rest;
    }

    public void Reset()
    {
        _carryLength = 0;
        _consumed = 0;
        _searchFrom = 0;
    }

    public void Dispose()
    {
        if (_carry.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_carry);
            _carry = [];
        }

        Reset();
    }

    /// <summary>An event ends at an empty line: "\n\n", or "\n\r\n" for CRLF streams.</summary>
    private static int FindEnd(ReadOnlySpan<byte> data, out int terminator)
    {
        var offset = 0;
        while (true)
        {
            var newline = data[offset..].IndexOf((byte)'\n');
            if (newline < 0)
            {
                terminator = 0;
                return -1;
            }

            var at = offset + newline;
            if (at + 1 < data.Length && data[at + 1] == (byte)'\n')
            {
                terminator = 2;
                return at;
            }

            if (at + 2 < data.Length && data[at + 1] == (byte)'\r' && data[at + 2] == (byte)'\n')
            {
                terminator = 3;
                return at;
            }

            offset = at + 1;
        }
    }

    private void Compact()
    {
        if (_consumed == 0)
        {
            return;
        }

        var left = _carryLength - _consumed;
        if (left > 0)
        {
            _carry.AsSpan(_consumed, left).CopyTo(_carry);
        }

        _carryLength = left;
        _consumed = 0;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        if (_carryLength + bytes.Length > _carry.Length)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(_carryLength + bytes.Length, Math.Max(1024, _carry.Length * 2)));
            _carry.AsSpan(0, _carryLength).CopyTo(grown);
            if (_carry.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_carry);
            }

            _carry = grown;
        }

        bytes.CopyTo(_carry.AsSpan(_carryLength));
        _carryLength += bytes.Length;
    }
}
