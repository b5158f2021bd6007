using System.Text;
using System.Text.Json;
using Proxy.Transforms.Body;

namespace Proxy.Transforms.Guardrails;

/// <summary>
/// Everything a model's answer says, for post_call guardrails: every choice (<c>n &gt; 1</c>), its content (a string or
/// text parts), reasoning (<c>reasoning_content</c>, <c>reasoning</c>), refusal, tool-call names and arguments and the
/// legacy <c>function_call</c>, or a completion's <c>text</c>; joined by blank lines.
/// </summary>
internal static class AnswerText
{
    /// <exception cref="JsonException">The answer is not JSON.</exception>
    /// <exception cref="InvalidOperationException">A string is not valid Unicode.</exception>
    public static string Read(ReadOnlySpan<byte> answer)
    {
        var text = new StringBuilder();
        var reader = new Utf8JsonReader(answer, RequestScanner.ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return string.Empty;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isChoices = reader.ValueTextEquals("choices"u8);
            // An Anthropic message (a native Messages pass-through): its content blocks; a Responses API answer: its output items.
            var isBlocks = reader.ValueTextEquals("content"u8);
            var isOutput = reader.ValueTextEquals("output"u8);
            reader.Read();
            if (isBlocks && reader.TokenType == JsonTokenType.StartArray)
            {
                ReadBlocks(ref reader, answer, text);
                continue;
            }

            if (!(isChoices || isOutput) || reader.TokenType != JsonTokenType.StartArray)
            {
                reader.Skip();
                continue;
            }

            var depth = reader.CurrentDepth;
            while (reader.Read() && reader.CurrentDepth > depth)
            {
                if (reader.TokenType == JsonTokenType.PropertyName && IsTextMember(ref reader))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        Append(text, reader.GetString());
                    }
                    else if (reader.TokenType is not (JsonTokenType.StartArray or JsonTokenType.StartObject))
                    {
                        reader.Skip();
                    }
                }
            }
        }

        return text.ToString();
    }

    // Text, thinking and a tool call's input (an object, judged as its JSON) of each Anthropic content block.
    private static void ReadBlocks(ref Utf8JsonReader reader, ReadOnlySpan<byte> answer, StringBuilder text)
    {
        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != depth + 2)
            {
                continue;
            }

            var isText = reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("thinking"u8) || reader.ValueTextEquals("name"u8);
            var isInput = reader.ValueTextEquals("input"u8);
            reader.Read();
            if (isText && reader.TokenType == JsonTokenType.String)
            {
                Append(text, reader.GetString());
            }
            else if (isInput && reader.TokenType == JsonTokenType.StartObject)
            {
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                Append(text, System.Text.Encoding.UTF8.GetString(answer[start..((int)reader.TokenStartIndex + 1)]));
            }
            else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                reader.Skip();
            }
        }
    }

    // Member names that carry said text, at any depth of a choice (message, delta, tool_calls[].function, content parts).
    internal static bool IsTextMember(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("content"u8) || reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("reasoning_content"u8)
        || reader.ValueTextEquals("reasoning"u8) || reader.ValueTextEquals("refusal"u8) || reader.ValueTextEquals("arguments"u8)
        || reader.ValueTextEquals("name"u8);

    private static void Append(StringBuilder text, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        if (text.Length > 0)
        {
            text.Append("\n\n");
        }

        text.Append(value);
    }
}
