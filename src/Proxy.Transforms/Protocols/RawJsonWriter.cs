using System.Buffers;

namespace Proxy.Transforms.Protocols;

/// <summary>
/// A minimal JSON writer over a buffer writer that takes raw value tokens copied from a validated body, so translated
/// bodies reuse the client's escaped strings and nested values byte for byte. It tracks commas only; the caller keeps
/// the structure well formed (at most 64 levels).
/// </summary>
internal struct RawJsonWriter
{
    private readonly IBufferWriter<byte> _output;
    private ulong _hasItems;
    private int _depth;
    private bool _afterName;

    public RawJsonWriter(IBufferWriter<byte> output)
    {
        _output = output;
    }

    public void StartObject()
    {
        BeforeValue();
        Byte((byte)'{');
        Push();
    }

    public void EndObject()
    {
        Pop();
        Byte((byte)'}');
    }

    public void StartArray()
    {
        BeforeValue();
        Byte((byte)'[');
        Push();
    }

    public void EndArray()
    {
        Pop();
        Byte((byte)']');
    }

    /// <summary>A member name given as its quoted JSON form without the colon, e.g. <c>"\"model\""u8</c>.</summary>
    public void Name(ReadOnlySpan<byte> quotedName)
    {
        Comma();
        RawJson.Write(_output, quotedName);
        Byte((byte)':');
        _afterName = true;
    }

    /// <summary>A whole member copied as it was sent (<c>"name": value</c>).</summary>
    public void RawMember(ReadOnlySpan<byte> member)
    {
        Comma();
        RawJson.Write(_output, member);
    }

    /// <summary>A value token copied as it was sent (a string with its quotes, a number, an object...).</summary>
    public void Raw(ReadOnlySpan<byte> value)
    {
        BeforeValue();
        RawJson.Write(_output, value);
    }

    /// <summary>A string value from unescaped UTF-8.</summary>
    public void String(ReadOnlySpan<byte> text)
    {
        BeforeValue();
        RawJson.WriteString(_output, text);
    }

    public void Int(long value)
    {
        BeforeValue();
        RawJson.WriteInt(_output, value);
    }

    public void Null() => Raw("null"u8);

    public void True() => Raw("true"u8);

    public void False() => Raw("false"u8);

    /// <summary>Starts a string value whose content is then appended in unescaped pieces.</summary>
    public void StartString()
    {
        BeforeValue();
        Byte((byte)'"');
    }

    public readonly void StringPiece(ReadOnlySpan<byte> text) => RawJson.WriteEscaped(_output, text);

    /// <summary>Appends a piece that is already escaped JSON string content (a string token without its quotes).</summary>
    public readonly void EscapedPiece(ReadOnlySpan<byte> escaped) => RawJson.Write(_output, escaped);

    public readonly void EndString() => Byte((byte)'"');

    private void BeforeValue()
    {
        if (_afterName)
        {
            _afterName = false;
            MarkItem();
            return;
        }

        Comma();
        MarkItem();
    }

    private void Comma()
    {
        if (_depth > 0 && (_hasItems & (1UL << _depth)) != 0)
        {
            Byte((byte)',');
        }

        MarkItem();
    }

    private void MarkItem()
    {
        if (_depth > 0)
        {
            _hasItems |= 1UL << _depth;
        }
    }

    private void Push()
    {
        _depth++;
        _hasItems &= ~(1UL << _depth);
    }

    private void Pop() => _depth--;

    private readonly void Byte(byte value)
    {
        var span = _output.GetSpan(1);
        span[0] = value;
        _output.Advance(1);
    }
}
