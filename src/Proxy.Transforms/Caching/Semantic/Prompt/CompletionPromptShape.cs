using System.Text;
using System.Text.Json;

namespace Proxy.Transforms.Caching.Semantic.Prompt;

/// <summary>
/// Legacy completions' <c>prompt</c>: a string, or a list of strings (joined by newlines; the skeleton keeps how many).
/// Token-id prompts have no text to embed, so they are not cached semantically.
/// </summary>
internal sealed class CompletionPromptShape : IPromptShape
{
    public static readonly CompletionPromptShape Instance = new();

    public string Member => "prompt";

    public bool Split(ReadOnlySpan<byte> value, Utf8JsonWriter skeleton, StringBuilder text)
    {
        var reader = new Utf8JsonReader(value);
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            skeleton.WriteStringValue(""u8);
            return ChatMessagesShape.Append(text, value);
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        var any = false;
        skeleton.WriteStartArray();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                return false;
            }

            var start = (int)reader.TokenStartIndex;
            any |= ChatMessagesShape.Append(text, value[start..(start + reader.ValueSpan.Length + 2)]);
            skeleton.WriteStringValue(""u8);
        }

        skeleton.WriteEndArray();
        return any;
    }
}
