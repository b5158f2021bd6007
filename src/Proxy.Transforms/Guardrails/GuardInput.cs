using System.Text;
using System.Text.Json;

namespace Proxy.Transforms.Guardrails;

/// <summary>
/// What guardrails need from a request body: the conversation (chat), the texts (completions prompt, embeddings and
/// moderations input), and the guardrails the request names (<c>guardrails</c> at the top or in <c>metadata</c>).
/// Read with one <see cref="Utf8JsonReader"/> pass, only when guardrails are configured.
/// </summary>
public sealed class GuardInput
{
    public List<GuardMessage> Messages { get; } = [];

    public List<string> Texts { get; } = [];

    /// <summary>Guardrail names the request asked for; null when it named none.</summary>
    public List<string>? Requested { get; private set; }

    /// <summary>The top-level <c>model</c> when it is a string.</summary>
    public string? Model { get; private set; }

    public bool IsEmpty => Messages.Count == 0 && Texts.Count == 0;

    /// <summary>The user's side as a list of turns: messages when there are any, else each text as a user turn.</summary>
    public IReadOnlyList<GuardMessage> Conversation()
    {
        if (Messages.Count > 0 || Texts.Count == 0)
        {
            return Messages;
        }

        var turns = new List<GuardMessage>(Texts.Count);
        foreach (var text in Texts)
        {
            turns.Add(new GuardMessage(false, text));
        }

        return turns;
    }

    /// <summary>The text a moderation endpoint judges for the input: the user's turns (system included), or the texts.</summary>
    public string InputText()
    {
        var text = new StringBuilder();
        foreach (var message in Messages)
        {
            if (!message.IsAgent && message.Text.Length > 0)
            {
                if (text.Length > 0)
                {
                    text.Append('\n');
                }

                text.Append(message.Text);
            }
        }

        if (text.Length == 0)
        {
            text.AppendJoin('\n', Texts);
        }

        return text.ToString();
    }

    /// <exception cref="JsonException">The body is not valid JSON (the routing scan has already ruled this out).</exception>
    public static GuardInput Parse(ReadOnlySpan<byte> body)
    {
        var input = new GuardInput();
        var reader = new Utf8JsonReader(body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return input;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("messages"u8))
            {
                reader.Read();
                input.ReadMessages(ref reader);
            }
            else if (reader.ValueTextEquals("prompt"u8) || reader.ValueTextEquals("input"u8))
            {
                reader.Read();
                ReadTexts(ref reader, input.Texts);
            }
            else if (reader.ValueTextEquals("model"u8))
            {
                reader.Read();
                input.Model = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("guardrails"u8))
            {
                reader.Read();
                input.ReadRequested(ref reader);
            }
            else if (reader.ValueTextEquals("metadata"u8))
            {
                reader.Read();
                input.ReadMetadata(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return input;
    }

    private void ReadMessages(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            var isAgent = false;
            string? text = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("role"u8))
                {
                    reader.Read();
                    isAgent = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("assistant"u8);
                }
                else if (reader.ValueTextEquals("content"u8))
                {
                    reader.Read();
                    text = ReadContent(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (!string.IsNullOrEmpty(text))
            {
                Messages.Add(new GuardMessage(isAgent, text));
            }
        }
    }

    // Content is a string or a list of parts; only text parts are judged.
    private static string? ReadContent(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return null;
        }

        StringBuilder? text = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isText = reader.ValueTextEquals("text"u8);
                reader.Read();
                if (isText && reader.TokenType == JsonTokenType.String)
                {
                    text ??= new StringBuilder();
                    if (text.Length > 0)
                    {
                        text.Append('\n');
                    }

                    text.Append(reader.GetString());
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        return text?.ToString();
    }

    private static void ReadTexts(ref Utf8JsonReader reader, List<string> texts)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            texts.Add(reader.GetString()!);
            return;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                texts.Add(reader.GetString()!);
            }
            else
            {
                // Token-id prompts and multimodal inputs carry no text to judge.
                reader.Skip();
            }
        }
    }

    // LiteLLM takes a list of names, or a map of name → per-request settings.
    private void ReadRequested(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType == JsonTokenType.String)
                {
                    (Requested ??= []).Add(reader.GetString()!);
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        else if (reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                (Requested ??= []).Add(reader.GetString()!);
                reader.Read();
                reader.Skip();
            }
        }
        else
        {
            reader.Skip();
        }
    }

    private void ReadMetadata(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isGuardrails = reader.ValueTextEquals("guardrails"u8);
            reader.Read();
            if (isGuardrails)
            {
                ReadRequested(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }
    }
}
