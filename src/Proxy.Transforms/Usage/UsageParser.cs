using System.Text.Json;

namespace Proxy.Transforms.Usage;

/// <summary>Reads one OpenAI <c>usage</c> object with <see cref="Utf8JsonReader"/>; never throws.</summary>
internal static class UsageParser
{
    /// <summary>
    /// Parses the value after <c>"usage"</c> (<paramref name="afterName"/> starts at the colon). False for
    /// <c>null</c>, an object cut off by the end of the tail, or one with no token counts.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> afterName, out TokenUsage usage)
    {
        usage = default;
        var colon = afterName.IndexOfAnyExcept(" \t\r\n"u8);
        if (colon < 0 || afterName[colon] != (byte)':')
        {
            return false;
        }

        // Not the final block: the bytes after the object (the rest of the event) are not read, and a cut-off object
        // makes Read return false instead of throwing.
        var reader = new Utf8JsonReader(afterName[(colon + 1)..], isFinalBlock: false, state: default);
        try
        {
            return reader.Read() && reader.TokenType == JsonTokenType.StartObject && ReadObject(ref reader, out usage);
        }
        catch (JsonException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            // A number where a string was expected, or the reverse: not a usage object we understand.
            return false;
        }
    }

    private static bool ReadObject(ref Utf8JsonReader reader, out TokenUsage usage)
    {
        usage = default;
        var prompt = -1;
        var completion = -1;
        // -1 until the usage reports a cached-token count (vLLM only does with --enable-prompt-tokens-details).
        var cached = -1;
        var cacheWrites = 0;
        var anthropicCache = false;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                if (prompt < 0 && completion < 0)
                {
                    return false;
                }

                // Anthropic counts cache reads and writes apart from input_tokens; chat's prompt_tokens include them.
                var cachedTokens = Math.Max(cached, 0);
                var prompts = Math.Max(prompt, 0) + (anthropicCache ? cachedTokens + cacheWrites : 0);
                usage = new TokenUsage(prompts, Math.Max(completion, 0), cachedTokens) { ReportsCachedTokens = cached >= 0 };
                return true;
            }

            // Chat/completions names, and the Responses API's input/output names.
            if (reader.ValueTextEquals("prompt_tokens"u8) || reader.ValueTextEquals("input_tokens"u8))
            {
                prompt = ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("completion_tokens"u8) || reader.ValueTextEquals("output_tokens"u8))
            {
                completion = ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("cache_read_input_tokens"u8))
            {
                cached = Math.Max(ReadCount(ref reader), 0);
                anthropicCache = true;
            }
            else if (reader.ValueTextEquals("cache_creation_input_tokens"u8))
            {
                cacheWrites = Math.Max(ReadCount(ref reader), 0);
                anthropicCache = true;
            }
            else if (reader.ValueTextEquals("prompt_tokens_details"u8) || reader.ValueTextEquals("input_tokens_details"u8))
            {
                if (!reader.Read())
                {
                    return false;
                }

                cached = ReadCachedTokens(ref reader);
            }
            else if (!reader.Read() || !reader.TrySkip())
            {
                return false;
            }
        }

        // The object was cut off by the end of the tail.
        return false;
    }

    private static int ReadCount(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            return -1;
        }

        if (reader.TokenType == JsonTokenType.Number)
        {
            return reader.TryGetInt32(out var value) && value >= 0 ? value : -1;
        }

        // An object or array here is not a count; step over it so the caller stays at the right depth.
        reader.TrySkip();
        return -1;
    }

    /// <returns>The cached tokens; -1 when the details carry none.</returns>
    private static int ReadCachedTokens(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            // null in vLLM without --enable-prompt-tokens-details.
            reader.TrySkip();
            return -1;
        }

        var cached = -1;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("cached_tokens"u8))
            {
                cached = ReadCount(ref reader);
            }
            else if (!reader.Read() || !reader.TrySkip())
            {
                return cached;
            }
        }

        return cached;
    }
}
