using System.Text;
using System.Text.Json;

namespace Proxy.Transforms.Caching.Semantic.Prompt;

/// <summary>
/// Chat <c>messages</c>: the text of the user and assistant turns is embedded (a string <c>content</c>, or the
/// <c>text</c> of its <c>{"type":"text"}</c> parts), joined by newlines. Everything else stays in the exact scope: the
/// roles and the number of turns, system and developer prompts, tool calls and tool results, images and other parts.
/// </summary>
/// <remarks>
/// LiteLLM embeds every message's content, the system prompt included. A long fixed system prompt then dominates the
/// vector and makes unrelated questions look alike, and a tool loop's next turn looks like its previous one, so both
/// are matched exactly here instead. Anthropic Messages blocks (<c>{"type":"text","text":...}</c>) fit the same shape.
/// </remarks>
internal sealed class ChatMessagesShape : IPromptShape
{
    public static readonly ChatMessagesShape Instance = new();

    public string Member => "messages";

    public bool Split(ReadOnlySpan<byte> value, Utf8JsonWriter skeleton, StringBuilder text)
    {
        var reader = new Utf8JsonReader(value);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        var any = false;
        skeleton.WriteStartArray();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            var message = value[start..(int)reader.BytesConsumed];
            if (reader.TokenType == JsonTokenType.EndObject && IsEmbeddedRole(message))
            {
                any |= SplitMessage(message, skeleton, text);
            }
            else
            {
                skeleton.WriteRawValue(message, skipInputValidation: true);
            }
        }

        skeleton.WriteEndArray();
        return any;
    }

    private static bool IsEmbeddedRole(ReadOnlySpan<byte> message)
    {
        var reader = new Utf8JsonReader(message);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isRole = reader.ValueTextEquals("role"u8);
            reader.Read();
            if (isRole)
            {
                return reader.TokenType == JsonTokenType.String && (reader.ValueTextEquals("user"u8) || reader.ValueTextEquals("assistant"u8));
            }

            reader.Skip();
        }

        return false;
    }

    private static bool SplitMessage(ReadOnlySpan<byte> message, Utf8JsonWriter skeleton, StringBuilder text)
    {
        var any = false;
        var reader = new Utf8JsonReader(message);
        reader.Read();
        skeleton.WriteStartObject();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isContent = reader.ValueTextEquals("content"u8);
            var name = reader.GetString()!;
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            var kind = reader.TokenType;
            reader.Skip();
            var member = message[start..(int)reader.BytesConsumed];
            skeleton.WritePropertyName(name);
            if (isContent && kind == JsonTokenType.String)
            {
                any |= Append(text, member);
                skeleton.WriteStringValue(""u8);
            }
            else if (isContent && kind == JsonTokenType.StartArray)
            {
                any |= SplitParts(member, skeleton, text);
            }
            else
            {
                skeleton.WriteRawValue(member, skipInputValidation: true);
            }
        }

        skeleton.WriteEndObject();
        return any;
    }

    // Text parts lose their text to the embedding; every other part (images, audio, files) stays in the scope as it is.
    private static bool SplitParts(ReadOnlySpan<byte> parts, Utf8JsonWriter skeleton, StringBuilder text)
    {
        var any = false;
        var reader = new Utf8JsonReader(parts);
        reader.Read();
        skeleton.WriteStartArray();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            var part = parts[start..(int)reader.BytesConsumed];
            if (reader.TokenType == JsonTokenType.EndObject && TextOf(part) is { } partText)
            {
                any |= Append(text, partText);
                WriteBlankedText(part, skeleton);
            }
            else
            {
                skeleton.WriteRawValue(part, skipInputValidation: true);
            }
        }

        skeleton.WriteEndArray();
        return any;
    }

    // The raw JSON string of a part's "text" when the part is {"type":"text"}; null otherwise.
    private static byte[]? TextOf(ReadOnlySpan<byte> part)
    {
        var reader = new Utf8JsonReader(part);
        reader.Read();
        var isText = false;
        byte[]? value = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isType = reader.ValueTextEquals("type"u8);
            var isTextMember = reader.ValueTextEquals("text"u8);
            reader.Read();
            if (isType)
            {
                // Responses API input items carry their text as input_text (and earlier answers as output_text) parts.
                isText = reader.TokenType == JsonTokenType.String
                    && (reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("input_text"u8) || reader.ValueTextEquals("output_text"u8));
            }
            else if (isTextMember && reader.TokenType == JsonTokenType.String)
            {
                var start = (int)reader.TokenStartIndex;
                value = part[start..(start + reader.ValueSpan.Length + 2)].ToArray();
            }

            reader.Skip();
        }

        return isText ? value : null;
    }

    private static void WriteBlankedText(ReadOnlySpan<byte> part, Utf8JsonWriter skeleton)
    {
        var reader = new Utf8JsonReader(part);
        reader.Read();
        skeleton.WriteStartObject();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isText = reader.ValueTextEquals("text"u8);
            var name = reader.GetString()!;
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            skeleton.WritePropertyName(name);
            if (isText)
            {
                skeleton.WriteStringValue(""u8);
            }
            else
            {
                skeleton.WriteRawValue(part[start..(int)reader.BytesConsumed], skipInputValidation: true);
            }
        }

        skeleton.WriteEndObject();
    }

    /// <summary>Appends a raw JSON string (quotes included) as text, on a new line; false when it is empty.</summary>
    internal static bool Append(StringBuilder text, ReadOnlySpan<byte> jsonString)
    {
        var reader = new Utf8JsonReader(jsonString);
        reader.Read();
        var value = reader.GetString();
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        if (text.Length > 0)
        {
            text.Append('\n');
        }

        text.Append(value.AsSpan().Trim());
        return true;
    }
}
