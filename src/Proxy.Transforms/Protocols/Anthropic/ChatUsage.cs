using System.Text.Json;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>An OpenAI usage object's counts; Anthropic's input_tokens exclude the cached prompt tokens it reports apart.</summary>
internal readonly record struct ChatUsage(int PromptTokens, int CompletionTokens, int CachedTokens)
{
    public int UncachedPromptTokens => Math.Max(0, PromptTokens - CachedTokens);

    public static ChatUsage Read(ReadOnlySpan<byte> usage)
    {
        int prompt = 0, completion = 0, cached = 0;
        var reader = new Utf8JsonReader(usage);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var member = reader.ValueSpan;
            reader.Read();
            if (member.SequenceEqual("prompt_tokens"u8))
            {
                prompt = Count(ref reader);
            }
            else if (member.SequenceEqual("completion_tokens"u8))
            {
                completion = Count(ref reader);
            }
            else if (member.SequenceEqual("prompt_tokens_details"u8) && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isCached = reader.ValueTextEquals("cached_tokens"u8);
                    reader.Read();
                    if (isCached)
                    {
                        cached = Count(ref reader);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return new ChatUsage(prompt, completion, cached);
    }

    /// <summary>Writes Anthropic's usage object (as a value after its member name).</summary>
    public void WriteAnthropic(ref RawJsonWriter json)
    {
        json.StartObject();
        json.Name("\"input_tokens\""u8);
        json.Int(UncachedPromptTokens);
        json.Name("\"cache_creation_input_tokens\""u8);
        json.Int(0);
        json.Name("\"cache_read_input_tokens\""u8);
        json.Int(CachedTokens);
        json.Name("\"output_tokens\""u8);
        json.Int(CompletionTokens);
        json.EndObject();
    }

    private static int Count(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value) && value > 0 ? value : 0;
}
