using System.Text;
using System.Text.Json;

namespace Proxy.Transforms.Guardrails;

/// <summary>
/// Collects the text of a streamed answer from pieces that may split lines anywhere, and notices the closing
/// <c>data: [DONE]</c>. Every choice (<c>n &gt; 1</c>) is collected, and within it each kind of text on its own
/// (content or a completion's <c>text</c>, reasoning, refusal, each tool call's name and arguments), so fragments that
/// arrive interleaved still read as what was said.
/// </summary>
internal sealed class SseTextCollector
{
    private readonly List<(long Slot, StringBuilder Text)> _parts = [];
    private byte[] _partial = [];
    private int _partialLength;

    public string Text
    {
        get
        {
            var text = new StringBuilder();
            foreach (var (_, part) in _parts)
            {
                if (part.Length == 0)
                {
                    continue;
                }

                if (text.Length > 0)
                {
                    text.Append("\n\n");
                }

                text.Append(part);
            }

            return text.ToString();
        }
    }
    /// <summary>A data event was not readable JSON (or not valid Unicode).</summary>
    public bool Unreadable { get; private set; }

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
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // What cannot be read cannot be judged: the check fails closed at the end.
            Unreadable = true;
        }

        return false;
    }

    private void Append(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, Body.RequestScanner.ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return;
        }

        var added = false;
        var block = 0L;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isChoices = reader.ValueTextEquals("choices"u8);
            var isIndex = reader.ValueTextEquals("index"u8);
            var isDelta = reader.ValueTextEquals("delta"u8);
            reader.Read();
            if (isIndex && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var i))
            {
                // Anthropic's content block index: each block (text, thinking, a tool call's input) is its own text.
                block = Math.Clamp(i, 0, 1023);
                continue;
            }

            if (isDelta && reader.TokenType == JsonTokenType.String)
            {
                // A Responses API event (response.output_text.delta, function_call_arguments.delta, ...): its text piece.
                if (reader.GetString() is { Length: > 0 } piece)
                {
                    Builder((block << 4) | 0).Append(piece);
                    added = true;
                }

                continue;
            }

            if (isDelta && reader.TokenType == JsonTokenType.StartObject)
            {
                // Anthropic's content_block_delta (a native Messages answer): {"delta": {"type": "text_delta", "text": ...}}.
                added |= ReadAnthropicDelta(ref reader, block);
                continue;
            }

            if (!isChoices || reader.TokenType != JsonTokenType.StartArray)
            {
                reader.Skip();
                continue;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                added |= ReadChoice(ref reader);
            }
        }

        if (added)
        {
            ContentEvents++;
        }
    }

    // One choice of one event: its index may come after its delta, so its texts are gathered first.
    private bool ReadChoice(ref Utf8JsonReader reader)
    {
        var depth = reader.CurrentDepth;
        var index = 0L;
        var tool = 0L;
        List<(int Kind, long Tool, string Text)>? texts = null;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.CurrentDepth == depth + 1 && reader.ValueTextEquals("index"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var i))
                {
                    index = Math.Clamp(i, 0, 1023);
                }

                continue;
            }

            if (reader.ValueTextEquals("index"u8))
            {
                // A tool call's own index (inside delta.tool_calls[]).
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var t))
                {
                    tool = Math.Clamp(t, 0, 1023);
                }

                continue;
            }

            var kind = KindOf(ref reader);
            reader.Read();
            if (kind >= 0 && reader.TokenType == JsonTokenType.String && reader.GetString() is { Length: > 0 } value)
            {
                (texts ??= []).Add((kind, kind >= 3 ? tool : 0, value));
            }
            else if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
            {
                reader.Skip();
            }
        }

        if (texts is null)
        {
            return false;
        }

        foreach (var (kind, toolIndex, value) in texts)
        {
            Builder((index << 20) | (toolIndex << 4) | (long)kind).Append(value);
        }

        return true;
    }

    // text_delta's "text", thinking_delta's "thinking", input_json_delta's "partial_json" (a tool call's arguments).
    private bool ReadAnthropicDelta(ref Utf8JsonReader reader, long block)
    {
        var added = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var kind = reader.ValueTextEquals("text"u8) ? 0
                : reader.ValueTextEquals("thinking"u8) ? 1
                : reader.ValueTextEquals("partial_json"u8) ? 4
                : -1;
            reader.Read();
            if (kind >= 0 && reader.TokenType == JsonTokenType.String && reader.GetString() is { Length: > 0 } value)
            {
                Builder((block << 4) | (long)kind).Append(value);
                added = true;
                continue;
            }

            reader.Skip();
        }

        return added;
    }

    private static int KindOf(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("content"u8) || reader.ValueTextEquals("text"u8) ? 0
        : reader.ValueTextEquals("reasoning_content"u8) || reader.ValueTextEquals("reasoning"u8) ? 1
        : reader.ValueTextEquals("refusal"u8) ? 2
        : reader.ValueTextEquals("name"u8) ? 3
        : reader.ValueTextEquals("arguments"u8) ? 4
        : -1;

    private StringBuilder Builder(long slot)
    {
        foreach (var (existing, text) in _parts)
        {
            if (existing == slot)
            {
                return text;
            }
        }

        var added = new StringBuilder();
        _parts.Add((slot, added));
        return added;
    }
}
