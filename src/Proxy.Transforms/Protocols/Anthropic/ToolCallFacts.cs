using System.Text.Json;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>One entry of chat's tool_calls (whole, or a stream's piece of one): raw tokens of its bytes.</summary>
internal readonly ref struct ToolCallFacts
{
    /// <summary>Position in the choice's tool_calls (streams send it with every piece).</summary>
    public int Index { get; init; }

    public ReadOnlySpan<byte> Id { get; init; }

    public ReadOnlySpan<byte> Name { get; init; }

    /// <summary>The arguments string token (quoted, escaped JSON text).</summary>
    public ReadOnlySpan<byte> Arguments { get; init; }

    public static ToolCallFacts Read(ReadOnlySpan<byte> call)
    {
        var index = 0;
        ReadOnlySpan<byte> id = default, name = default, arguments = default;
        var reader = new Utf8JsonReader(call);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var member = reader.ValueSpan;
            reader.Read();
            if (member.SequenceEqual("index"u8) && reader.TokenType == JsonTokenType.Number)
            {
                reader.TryGetInt32(out index);
            }
            else if (member.SequenceEqual("id"u8) && reader.TokenType == JsonTokenType.String)
            {
                id = RawJson.ValueOf(ref reader, call);
            }
            else if (member.SequenceEqual("function"u8) && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var field = reader.ValueSpan;
                    reader.Read();
                    if (field.SequenceEqual("name"u8) && reader.TokenType == JsonTokenType.String)
                    {
                        name = RawJson.ValueOf(ref reader, call);
                    }
                    else if (field.SequenceEqual("arguments"u8) && reader.TokenType == JsonTokenType.String)
                    {
                        arguments = RawJson.ValueOf(ref reader, call);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return new ToolCallFacts { Index = index, Id = id, Name = name, Arguments = arguments };
    }
}
