using System.Text.Json;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>
/// One chat choice: its message (or a stream chunk's delta) and finish. Values are raw tokens of the choice's bytes;
/// strings keep their quotes. vLLM names reasoning <c>reasoning_content</c> (and <c>reasoning</c> since 0.10); the first
/// one present is taken.
/// </summary>
internal readonly ref struct ChoiceFacts
{
    public ReadOnlySpan<byte> Content { get; init; }

    public ReadOnlySpan<byte> Reasoning { get; init; }

    public ReadOnlySpan<byte> ToolCalls { get; init; }

    /// <summary>finish_reason without quotes; empty while the choice goes on.</summary>
    public ReadOnlySpan<byte> FinishReason { get; init; }

    /// <summary>vLLM's <c>stop_reason</c> when it is the stop string that matched (a quoted string token).</summary>
    public ReadOnlySpan<byte> StopSequence { get; init; }

    public static ChoiceFacts Read(ReadOnlySpan<byte> choice)
    {
        ReadOnlySpan<byte> message = default, finish = default, stop = default;
        var reader = new Utf8JsonReader(choice);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var member = reader.ValueSpan;
            reader.Read();
            if ((member.SequenceEqual("message"u8) || member.SequenceEqual("delta"u8)) && reader.TokenType == JsonTokenType.StartObject)
            {
                message = RawJson.ValueOf(ref reader, choice);
            }
            else if (member.SequenceEqual("finish_reason"u8) && reader.TokenType == JsonTokenType.String)
            {
                finish = reader.ValueSpan;
            }
            else if (member.SequenceEqual("stop_reason"u8) && reader.TokenType == JsonTokenType.String)
            {
                stop = RawJson.ValueOf(ref reader, choice);
            }
            else
            {
                reader.Skip();
            }
        }

        ReadOnlySpan<byte> content = default, reasoning = default, tools = default;
        if (!message.IsEmpty)
        {
            var inner = new Utf8JsonReader(message);
            inner.Read();
            while (inner.Read() && inner.TokenType == JsonTokenType.PropertyName)
            {
                var member = inner.ValueSpan;
                inner.Read();
                if (member.SequenceEqual("content"u8) && inner.TokenType == JsonTokenType.String)
                {
                    content = RawJson.ValueOf(ref inner, message);
                }
                else if ((member.SequenceEqual("reasoning_content"u8) || member.SequenceEqual("reasoning"u8))
                    && inner.TokenType == JsonTokenType.String && reasoning.IsEmpty && inner.ValueSpan.Length > 0)
                {
                    reasoning = RawJson.ValueOf(ref inner, message);
                }
                else if (member.SequenceEqual("tool_calls"u8) && inner.TokenType == JsonTokenType.StartArray)
                {
                    tools = RawJson.ValueOf(ref inner, message);
                }
                else
                {
                    inner.Skip();
                }
            }
        }

        return new ChoiceFacts { Content = content, Reasoning = reasoning, ToolCalls = tools, FinishReason = finish, StopSequence = stop };
    }
}
