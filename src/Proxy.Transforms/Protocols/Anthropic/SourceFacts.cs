using System.Text.Json;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>An image or document <c>source</c>: its type and the ranges of media_type, data and url in <see cref="Raw"/>.</summary>
internal readonly ref struct SourceFacts
{
    public ReadOnlySpan<byte> Raw { get; init; }

    public ReadOnlySpan<byte> Type { get; init; }

    public ValueRange MediaType { get; init; }

    public ValueRange Data { get; init; }

    public ValueRange Url { get; init; }

    public static SourceFacts Read(ReadOnlySpan<byte> source)
    {
        ReadOnlySpan<byte> type = default;
        ValueRange mediaType = default, data = default, url = default;
        var reader = new Utf8JsonReader(source);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return new SourceFacts { Raw = source };
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var member = reader.ValueSpan;
            reader.Read();
            var isString = reader.TokenType == JsonTokenType.String;
            var range = new ValueRange((int)reader.TokenStartIndex, (int)reader.TokenStartIndex + (isString ? reader.ValueSpan.Length + 2 : 0));
            if (member.SequenceEqual("type"u8) && isString)
            {
                type = reader.ValueSpan;
            }
            else if (member.SequenceEqual("media_type"u8) && isString)
            {
                mediaType = range;
            }
            else if (member.SequenceEqual("data"u8) && isString)
            {
                data = range;
            }
            else if (member.SequenceEqual("url"u8) && isString)
            {
                url = range;
            }
            else
            {
                reader.Skip();
            }
        }

        return new SourceFacts { Raw = source, Type = type, MediaType = mediaType, Data = data, Url = url };
    }
}
