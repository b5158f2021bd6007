using System.Text.Json;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>The parts of an Anthropic message (or one stream event) the chat translators read, as raw tokens.</summary>
internal readonly ref struct MessagesEventFacts
{
    /// <summary>The <c>type</c> member without quotes: message, error, message_start, content_block_delta, ...</summary>
    public ReadOnlySpan<byte> Type { get; init; }

    public ReadOnlySpan<byte> Id { get; init; }

    public ReadOnlySpan<byte> Model { get; init; }

    public ReadOnlySpan<byte> Content { get; init; }

    public ReadOnlySpan<byte> StopReason { get; init; }

    public ReadOnlySpan<byte> Usage { get; init; }

    /// <summary>message_start's message, content_block_start's content_block, a delta event's delta, an error's error.</summary>
    public ReadOnlySpan<byte> Inner { get; init; }

    public int Index { get; init; }

    public static MessagesEventFacts Read(ReadOnlySpan<byte> json)
    {
        ReadOnlySpan<byte> type = default, id = default, model = default, content = default, stopReason = default, usage = default, inner = default;
        var index = 0;
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return default;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var member = reader.ValueSpan;
            reader.Read();
            if (member.SequenceEqual("type"u8) && reader.TokenType == JsonTokenType.String)
            {
                type = reader.ValueSpan;
            }
            else if (member.SequenceEqual("id"u8) && reader.TokenType == JsonTokenType.String)
            {
                id = RawJson.ValueOf(ref reader, json);
            }
            else if (member.SequenceEqual("model"u8) && reader.TokenType == JsonTokenType.String)
            {
                model = RawJson.ValueOf(ref reader, json);
            }
            else if (member.SequenceEqual("content"u8) && reader.TokenType == JsonTokenType.StartArray)
            {
                content = RawJson.ValueOf(ref reader, json);
            }
            else if (member.SequenceEqual("stop_reason"u8) && reader.TokenType == JsonTokenType.String)
            {
                stopReason = reader.ValueSpan;
            }
            else if (member.SequenceEqual("usage"u8) && reader.TokenType == JsonTokenType.StartObject)
            {
                usage = RawJson.ValueOf(ref reader, json);
            }
            else if (member.SequenceEqual("index"u8) && reader.TokenType == JsonTokenType.Number)
            {
                reader.TryGetInt32(out index);
            }
            else if ((member.SequenceEqual("message"u8) || member.SequenceEqual("content_block"u8) || member.SequenceEqual("delta"u8)
                || member.SequenceEqual("error"u8)) && reader.TokenType == JsonTokenType.StartObject)
            {
                inner = RawJson.ValueOf(ref reader, json);
            }
            else
            {
                reader.Skip();
            }
        }

        return new MessagesEventFacts { Type = type, Id = id, Model = model, Content = content, StopReason = stopReason, Usage = usage, Inner = inner, Index = index };
    }
}
