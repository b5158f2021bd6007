using System.Text;
using System.Text.Json;

namespace Proxy.Transforms.Caching.Semantic.Prompt;

/// <summary>
/// The Responses API's <c>input</c>: a string is the prompt; a list of items is split as chat messages are (the text of
/// user and assistant message items is embedded; instructions, function calls and their outputs, images stay in the
/// exact scope).
/// </summary>
internal sealed class ResponsesInputShape : IPromptShape
{
    public static readonly ResponsesInputShape Instance = new();

    public string Member => "input";

    public bool Split(ReadOnlySpan<byte> value, Utf8JsonWriter skeleton, StringBuilder text)
    {
        var reader = new Utf8JsonReader(value);
        if (!reader.Read())
        {
            return false;
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            skeleton.WriteStringValue(""u8);
            return ChatMessagesShape.Append(text, value);
        }

        return reader.TokenType == JsonTokenType.StartArray && ChatMessagesShape.Instance.Split(value, skeleton, text);
    }
}
