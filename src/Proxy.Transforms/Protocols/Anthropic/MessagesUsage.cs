using System.Text.Json;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>Anthropic's usage counts; chat's prompt_tokens include the cache reads and writes Anthropic counts apart.</summary>
internal struct MessagesUsage
{
    public int InputTokens;
    public int OutputTokens;
    public int CacheReadTokens;
    public int CacheCreationTokens;

    public readonly int PromptTokens => InputTokens + CacheReadTokens + CacheCreationTokens;

    /// <summary>Reads a usage object; members it does not carry keep their value (message_delta repeats only some).</summary>
    public void Merge(ReadOnlySpan<byte> usage)
    {
        var reader = new Utf8JsonReader(usage);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var member = reader.ValueSpan;
            reader.Read();
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var value) || value < 0)
            {
                reader.Skip();
                continue;
            }

            if (member.SequenceEqual("input_tokens"u8))
            {
                InputTokens = value;
            }
            else if (member.SequenceEqual("output_tokens"u8))
            {
                OutputTokens = value;
            }
            else if (member.SequenceEqual("cache_read_input_tokens"u8))
            {
                CacheReadTokens = value;
            }
            else if (member.SequenceEqual("cache_creation_input_tokens"u8))
            {
                CacheCreationTokens = value;
            }
        }
    }

    /// <summary>Writes chat's usage object (as a value after its member name).</summary>
    public readonly void WriteChat(ref RawJsonWriter json)
    {
        json.StartObject();
        json.Name("\"prompt_tokens\""u8);
        json.Int(PromptTokens);
        json.Name("\"completion_tokens\""u8);
        json.Int(OutputTokens);
        json.Name("\"total_tokens\""u8);
        json.Int(PromptTokens + OutputTokens);
        json.Name("\"prompt_tokens_details\""u8);
        json.StartObject();
        json.Name("\"cached_tokens\""u8);
        json.Int(CacheReadTokens);
        json.EndObject();
        json.EndObject();
    }
}
