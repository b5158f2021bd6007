using System.Text;
using System.Text.Json;
using Proxy.Transforms.Body;
using Proxy.Transforms.Streaming;

namespace Proxy.Transforms.Caching.Semantic.Prompt;

/// <summary>
/// Splits a request body into the prompt text to embed and the skeleton: the same body with that text blanked, every
/// other member copied as it came (raw, not re-serialised). The skeleton is keyed like an exact-cache request, so the
/// semantic scope follows whatever the exact key covers.
/// </summary>
internal static class PromptSplitter
{
    /// <returns>The prompt text, or null when the body has no text to embed (then the semantic cache leaves it alone).</returns>
    public static string? Split(ReadOnlySpan<byte> body, IPromptShape shape, ArrayPoolBufferWriter skeleton)
    {
        var text = new StringBuilder();
        var found = false;
        using var writer = new Utf8JsonWriter(skeleton, new JsonWriterOptions { SkipValidation = true });
        try
        {
            var reader = new Utf8JsonReader(body, RequestScanner.ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            writer.WriteStartObject();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isPrompt = reader.ValueTextEquals(shape.Member);
                var name = reader.GetString()!;
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                var value = body[start..(int)reader.BytesConsumed];
                writer.WritePropertyName(name);
                if (isPrompt)
                {
                    found = shape.Split(value, writer, text);
                    if (!found)
                    {
                        return null;
                    }
                }
                else
                {
                    writer.WriteRawValue(value, skipInputValidation: true);
                }
            }

            writer.WriteEndObject();
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }

        writer.Flush();
        return found ? text.ToString() : null;
    }
}
