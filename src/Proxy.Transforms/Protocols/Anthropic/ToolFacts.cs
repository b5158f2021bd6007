using System.Text.Json;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>The members of one Messages tool definition, as ranges of the tool's bytes.</summary>
internal readonly struct ToolFacts
{
    public ValueRange Type { get; init; }

    public ValueRange Name { get; init; }

    public ValueRange Description { get; init; }

    public ValueRange Schema { get; init; }

    public static ToolFacts Read(ReadOnlySpan<byte> tool)
    {
        ValueRange type = default, name = default, description = default, schema = default;
        var reader = new Utf8JsonReader(tool);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var member = reader.ValueSpan;
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            var isString = reader.TokenType == JsonTokenType.String;
            reader.Skip();
            var range = new ValueRange(start, (int)reader.BytesConsumed);
            if (member.SequenceEqual("type"u8) && isString)
            {
                type = range;
            }
            else if (member.SequenceEqual("name"u8) && isString)
            {
                name = range;
            }
            else if (member.SequenceEqual("description"u8) && isString)
            {
                description = range;
            }
            else if (member.SequenceEqual("input_schema"u8))
            {
                schema = range;
            }
        }

        return new ToolFacts { Type = type, Name = name, Description = description, Schema = schema };
    }
}
