using System.Text;
using System.Text.Json;

namespace Proxy.Transforms.Guardrails;

/// <summary>
/// Collects the text of a streamed answer (<c>choices[0].delta.content</c> or <c>choices[0].text</c> of each
/// <c>data:</c> event) from pieces that may split lines anywhere, and notices the closing <c>data: [DONE]</c>.
/// </summary>
internal sealed class SseTextCollector
{
    private readonly StringBuilder _text = new();
    private byte[] _partial = [];
    private int _partialLength;

    public string Text => _text.ToString();

    /// <summary>Events that added text so far.</summary>
    public int ContentEvents { get; private set; }

    /// <summary>Feeds one piece; true when it holds the end of the stream (<c>[DONE]</c>).</summary>
    public bool Feed(ReadOnlySpan<byte> piece)
    {
        var done = false;
        while (true)
        {
            var newline = piece.IndexOf((byte)'\n');
            if (newline < 0)
            {
                Keep(piece);
                return done;
            }

            if (_partialLength > 0)
            {
                Keep(piece[..newline]);
                done |= Line(_partial.AsSpan(0, _partialLength));
                _partialLength = 0;
            }
            else
            {
                done |= Line(piece[..newline]);
            }

            piece = piece[(newline + 1)..];
        }
    }

    private void Keep(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        if (_partialLength + bytes.Length > _partial.Length)
        {
            Array.Resize(ref _partial, Math.Max(_partialLength + bytes.Length, Math.Max(256, _partial.Length * 2)));
        }

        bytes.CopyTo(_partial.AsSpan(_partialLength));
        _partialLength += bytes.Length;
    }

    private bool Line(ReadOnlySpan<byte> line)
    {
        line = line.TrimEnd((byte)'\r');
        if (!line.StartsWith("data:"u8))
        {
            return false;
        }

        var payload = line["data:"u8.Length..].TrimStart((byte)' ');
        // Chat ends with [DONE]; Anthropic's Messages stream (a native pass-through) with message_stop.
        if (payload.SequenceEqual("[DONE]"u8) || payload.SequenceEqual("{\"type\":\"message_stop\"}"u8))
        {
            return true;
        }

        try
        {
            Append(payload);
        }
        catch (JsonException)
        {
            // An event that is not JSON carries no text to judge.
        }

        return false;
    }

    private void Append(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("delta"u8))
            {
                // Anthropic's content_block_delta: {"delta": {"type": "text_delta", "text": "..."}}.
                reader.Read();
                AppendAnthropicDelta(ref reader);
                return;
            }

            if (!reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray || !reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("text"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        Add(reader.GetString());
                    }

                    return;
                }

                if (!reader.ValueTextEquals("delta"u8))
                {
                    reader.Read();
                    reader.Skip();
                    continue;
                }

                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    return;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isContent = reader.ValueTextEquals("content"u8);
                    reader.Read();
                    if (isContent && reader.TokenType == JsonTokenType.String)
                    {
                        Add(reader.GetString());
                        return;
                    }

                    reader.Skip();
                }

                return;
            }

            return;
        }
    }

    private void AppendAnthropicDelta(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isText = reader.ValueTextEquals("text"u8);
            reader.Read();
            if (isText && reader.TokenType == JsonTokenType.String)
            {
                Add(reader.GetString());
                return;
            }

            reader.Skip();
        }
    }

    private void Add(string? text)
    {
        if (!string.IsNullOrEmpty(text))
        {
            _text.Append(text);
            ContentEvents++;
        }
    }
}
