using System.Text.Json;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>A content block of an answer, or a stream delta: its type and the text, thinking, tool id, name, input or partial JSON.</summary>
internal readonly ref struct MessageBlockFacts
{
    public ReadOnlySpan<byte> Type { get; init; }

    public ReadOnlySpan<byte> Text { get; init; }

    public ReadOnlySpan<byte> Thinking { get; init; }

    public ReadOnlySpan<byte> Id { get; init; }

    public ReadOnlySpan<byte> Name { get; init; }

    public ReadOnlySpan<byte> Input { get; init; }

    public ReadOnlySpan<byte> PartialJson { get; init; }

    /// <summary>An error object's message (a quoted token).</summary>
    public ReadOnlySpan<byte> Message { get; init; }

    /// <summary>A message_delta's stop_reason, without quotes.</summary>
    public ReadOnlySpan<byte> StopReason { get; init; }

    public static MessageBlockFacts Read(ReadOnlySpan<byte> block)
    {
        ReadOnlySpan<byte> type = default, text = default, thinking = default, id = default, name = default, input = default,
            partial = default, message = default, stopReason = default;
        var reader = new Utf8JsonReader(block);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var member = reader.ValueSpan;
            reader.Read();
            var isString = reader.TokenType == JsonTokenType.String;
            if (member.SequenceEqual("type"u8) && isString)
            {
                type = reader.ValueSpan;
            }
            else if (member.SequenceEqual("text"u8) && isString)
            {
                text = RawJson.ValueOf(ref reader, block);
            }
            else if (member.SequenceEqual("thinking"u8) && isString)
            {
                thinking = RawJson.ValueOf(ref reader, block);
            }
            else if (member.SequenceEqual("id"u8) && isString)
            {
                id = RawJson.ValueOf(ref reader, block);
            }
            else if (member.SequenceEqual("name"u8) && isString)
            {
                name = RawJson.ValueOf(ref reader, block);
            }
            else if (member.SequenceEqual("input"u8) && reader.TokenType == JsonTokenType.StartObject)
            {
                input = RawJson.ValueOf(ref reader, block);
            }
            else if (member.SequenceEqual("partial_json"u8) && isString)
            {
                partial = RawJson.ValueOf(ref reader, block);
            }
            else if (member.SequenceEqual("message"u8) && isString)
            {
                message = RawJson.ValueOf(ref reader, block);
            }
            else if (member.SequenceEqual("stop_reason"u8) && isString)
            {
                stopReason = reader.ValueSpan;
            }
            else
            {
                reader.Skip();
            }
        }

        return new MessageBlockFacts
        {
            Type = type, Text = text, Thinking = thinking, Id = id, Name = name, Input = input, PartialJson = partial, Message = message,
            StopReason = stopReason,
        };
    }
}
