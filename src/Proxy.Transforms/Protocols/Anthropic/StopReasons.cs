namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>Chat's finish_reason and Anthropic's stop_reason, both ways (LiteLLM's mapping).</summary>
internal static class StopReasons
{
    /// <summary>Anthropic's stop_reason (a quoted JSON string) for chat's finish_reason.</summary>
    public static ReadOnlySpan<byte> FromChat(ReadOnlySpan<byte> finishReason, bool hasToolCalls, bool hasStopSequence)
    {
        if (hasToolCalls || finishReason.SequenceEqual("tool_calls"u8) || finishReason.SequenceEqual("function_call"u8))
        {
            return "\"tool_use\""u8;
        }

        if (finishReason.SequenceEqual("length"u8))
        {
            return "\"max_tokens\""u8;
        }

        if (finishReason.SequenceEqual("content_filter"u8))
        {
            return "\"refusal\""u8;
        }

        // vLLM names the stop string that ended the answer in choices[].stop_reason.
        return hasStopSequence ? "\"stop_sequence\""u8 : "\"end_turn\""u8;
    }

    /// <summary>Chat's finish_reason (a quoted JSON string) for Anthropic's stop_reason.</summary>
    public static ReadOnlySpan<byte> ToChat(ReadOnlySpan<byte> stopReason)
    {
        if (stopReason.SequenceEqual("tool_use"u8))
        {
            return "\"tool_calls\""u8;
        }

        if (stopReason.SequenceEqual("max_tokens"u8) || stopReason.SequenceEqual("model_context_window_exceeded"u8))
        {
            return "\"length\""u8;
        }

        return stopReason.SequenceEqual("refusal"u8) ? "\"content_filter\""u8 : "\"stop\""u8;
    }
}
