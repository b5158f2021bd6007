namespace Proxy.Transforms.Body;

/// <summary>
/// Classifies top-level member names (unescaped UTF-8) with a switch on length and then one or two
/// <c>SequenceEqual</c>s, so a name we don't care about usually costs a jump and at most one short compare.
/// </summary>
internal static class MemberNames
{
    public static MemberKind Classify(ReadOnlySpan<byte> name)
    {
        // Prefix families first; they cover names of any length. Most real names start with none of m/l/u.
        if (name.Length >= 8)
        {
            if (name[0] == (byte)'m' && name.StartsWith("mock_testing_"u8))
            {
                return ClassifyMockTesting(name);
            }

            if (name[0] == (byte)'l' && name.StartsWith("litellm_"u8))
            {
                return MemberKind.Strip;
            }

            if (name[0] == (byte)'u' && name.StartsWith("user_api_key_"u8))
            {
                return MemberKind.Strip;
            }
        }

        return name.Length switch
        {
            4 => name.SequenceEqual("tags"u8) ? MemberKind.Tags : MemberKind.Other,
            5 => name.SequenceEqual("model"u8) ? MemberKind.Model
                : name.SequenceEqual("cache"u8) ? MemberKind.Strip
                : name.SequenceEqual("tools"u8) ? MemberKind.Tools
                : name.SequenceEqual("input"u8) ? MemberKind.Input : MemberKind.Other,
            6 => name.SequenceEqual("stream"u8) ? MemberKind.Stream
                : name.SequenceEqual("no-log"u8) ? MemberKind.Strip
                : name.SequenceEqual("prompt"u8) ? MemberKind.Prompt
                : name.SequenceEqual("system"u8) ? MemberKind.System : MemberKind.Other,
            7 => name.SequenceEqual("timeout"u8) ? MemberKind.Timeout
                : name.SequenceEqual("caching"u8) || name.SequenceEqual("api_key"u8) ? MemberKind.Strip : MemberKind.Other,
            8 => name.SequenceEqual("messages"u8) ? MemberKind.Messages
                : name.SequenceEqual("metadata"u8) ? MemberKind.Metadata
                : name.SequenceEqual("api_base"u8) || name.SequenceEqual("base_url"u8) ? MemberKind.Strip : MemberKind.Other,
            9 => name.SequenceEqual("fallbacks"u8) ? MemberKind.Strip : MemberKind.Other,
            10 => name.SequenceEqual("guardrails"u8) || name.SequenceEqual("model_list"u8) ? MemberKind.Strip
                : name.SequenceEqual("cache_salt"u8) ? MemberKind.CacheSalt : MemberKind.Other,
            11 => name.SequenceEqual("num_retries"u8) ? MemberKind.NumRetries
                : name.SequenceEqual("api_version"u8) || name.SequenceEqual("drop_params"u8) ? MemberKind.Strip : MemberKind.Other,
            12 => name.SequenceEqual("mock_timeout"u8) ? MemberKind.MockTimeout
                : name.SequenceEqual("user_api_key"u8) ? MemberKind.Strip
                : name.SequenceEqual("instructions"u8) ? MemberKind.Instructions : MemberKind.Other,
            13 => name.SequenceEqual("mock_response"u8) ? MemberKind.MockResponse
                : name.SequenceEqual("secret_fields"u8) ? MemberKind.Strip : MemberKind.Other,
            14 => name.SequenceEqual("stream_options"u8) ? MemberKind.StreamOptions : MemberKind.Other,
            15 => name.SequenceEqual("request_timeout"u8) ? MemberKind.Timeout
                : name.SequenceEqual("mock_tool_calls"u8) ? MemberKind.Strip
                : name.SequenceEqual("response_format"u8) ? MemberKind.ResponseFormat : MemberKind.Other,
            17 => name.SequenceEqual("disable_fallbacks"u8) ? MemberKind.DisableFallbacks : MemberKind.Other,
            20 => name.SequenceEqual("proxy_server_request"u8) ? MemberKind.Strip
                : name.SequenceEqual("previous_response_id"u8) ? MemberKind.PreviousResponseId : MemberKind.Other,
            24 => name.SequenceEqual("context_window_fallbacks"u8) || name.SequenceEqual("content_policy_fallbacks"u8)
                ? MemberKind.Strip : MemberKind.Other,
            _ => MemberKind.Other,
        };
    }

    private static MemberKind ClassifyMockTesting(ReadOnlySpan<byte> name)
    {
        var rest = name["mock_testing_"u8.Length..];
        if (rest.SequenceEqual("fallbacks"u8))
        {
            return MemberKind.MockTestingFallbacks;
        }

        if (rest.SequenceEqual("rate_limit_error"u8))
        {
            return MemberKind.MockTestingRateLimitError;
        }

        // LiteLLM has accepted all three spellings over time.
        if (rest.SequenceEqual("context_window_fallbacks"u8) || rest.SequenceEqual("context_window_fallback"u8)
            || rest.SequenceEqual("context_fallbacks"u8))
        {
            return MemberKind.MockTestingContextWindowFallbacks;
        }

        if (rest.SequenceEqual("content_policy_fallbacks"u8))
        {
            return MemberKind.MockTestingContentPolicyFallbacks;
        }

        // Unknown mock_testing_* flags are still LiteLLM-only.
        return MemberKind.Strip;
    }
}
