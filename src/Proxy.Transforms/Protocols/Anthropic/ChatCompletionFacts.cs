using System.Text.Json;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>The parts of a chat.completion (or one chunk of a stream) the Messages translators read, as ranges of its bytes.</summary>
internal readonly ref struct ChatCompletionFacts
{
    public ReadOnlySpan<byte> Source { get; init; }

    public ValueRange Id { get; init; }

    public ValueRange Model { get; init; }

    /// <summary>The first choice (index 0); chat's n &gt; 1 has no Messages equivalent.</summary>
    public ValueRange Choice { get; init; }

    public ValueRange Usage { get; init; }

    public ValueRange Error { get; init; }

    public bool HasChoices { get; init; }

    public static ChatCompletionFacts Read(ReadOnlySpan<byte> json)
    {
        ValueRange id = default, model = default, choice = default, usage = default, error = default;
        var hasChoices = false;
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return new ChatCompletionFacts { Source = json };
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var member = reader.ValueSpan;
            reader.Read();
            if (member.SequenceEqual("choices"u8) && reader.TokenType == JsonTokenType.StartArray)
            {
                hasChoices = true;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    if (!choice.IsSet)
                    {
                        choice = new ValueRange(start, (int)reader.BytesConsumed);
                    }
                }

                continue;
            }

            var valueStart = (int)reader.TokenStartIndex;
            var kind = reader.TokenType;
            reader.Skip();
            var range = new ValueRange(valueStart, (int)reader.BytesConsumed);
            if (member.SequenceEqual("id"u8) && kind == JsonTokenType.String)
            {
                id = range;
            }
            else if (member.SequenceEqual("model"u8) && kind == JsonTokenType.String)
            {
                model = range;
            }
            else if (member.SequenceEqual("usage"u8) && kind == JsonTokenType.StartObject)
            {
                usage = range;
            }
            else if (member.SequenceEqual("error"u8) && kind != JsonTokenType.Null)
            {
                error = range;
            }
        }

        return new ChatCompletionFacts { Source = json, Id = id, Model = model, Choice = choice, Usage = usage, Error = error, HasChoices = hasChoices };
    }
}
