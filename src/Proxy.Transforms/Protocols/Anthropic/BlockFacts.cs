using System.Text.Json;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>The members of one Messages content block the translators read, as ranges of the block's bytes.</summary>
internal readonly ref struct BlockFacts
{
    public ReadOnlySpan<byte> Type { get; init; }

    public ValueRange Text { get; init; }

    public ValueRange Source { get; init; }

    public ValueRange ToolUseId { get; init; }

    public ValueRange Content { get; init; }

    public ValueRange Id { get; init; }

    public ValueRange Name { get; init; }

    public ValueRange Input { get; init; }

    /// <summary>Image blocks inside a tool_result's content.</summary>
    public int ImageCount { get; init; }

    public static BlockFacts Read(ReadOnlySpan<byte> block)
    {
        ReadOnlySpan<byte> type = default;
        ValueRange text = default, source = default, toolUseId = default, content = default, id = default, name = default, input = default;
        var images = 0;
        var reader = new Utf8JsonReader(block);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var member = reader.ValueSpan;
            reader.Read();
            if (member.SequenceEqual("type"u8))
            {
                type = reader.TokenType == JsonTokenType.String ? reader.ValueSpan : default;
                continue;
            }

            var start = (int)reader.TokenStartIndex;
            var isString = reader.TokenType == JsonTokenType.String;
            reader.Skip();
            var range = new ValueRange(start, (int)reader.BytesConsumed);
            if (member.SequenceEqual("text"u8) && isString)
            {
                text = range;
            }
            else if (member.SequenceEqual("source"u8))
            {
                source = range;
            }
            else if (member.SequenceEqual("tool_use_id"u8) && isString)
            {
                toolUseId = range;
            }
            else if (member.SequenceEqual("content"u8))
            {
                content = range;
                images = CountImages(range.Of(block));
            }
            else if (member.SequenceEqual("id"u8) && isString)
            {
                id = range;
            }
            else if (member.SequenceEqual("name"u8) && isString)
            {
                name = range;
            }
            else if (member.SequenceEqual("input"u8))
            {
                input = range;
            }
        }

        return new BlockFacts
        {
            Type = type, Text = text, Source = source, ToolUseId = toolUseId, Content = content, Id = id, Name = name, Input = input,
            ImageCount = images,
        };
    }

    private static int CountImages(ReadOnlySpan<byte> content)
    {
        if (content.IsEmpty || content[0] != (byte)'[' || content.IndexOf("\"image\""u8) < 0)
        {
            return 0;
        }

        var count = 0;
        var reader = new Utf8JsonReader(content);
        reader.Read();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            var depth = reader.CurrentDepth;
            while (reader.Read() && reader.CurrentDepth > depth)
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1 && reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    count += reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("image"u8) ? 1 : 0;
                }
                else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    reader.Skip();
                }
            }
        }

        return count;
    }
}
