using System.Buffers;
using System.Text.Json;

namespace Proxy.Transforms.Protocols.Anthropic;

/// <summary>Chat carries tool arguments as a JSON string; Messages as a JSON object (<c>input</c>).</summary>
internal static class ToolArguments
{
    /// <summary>
    /// Writes the object the arguments string holds. Arguments that are not a JSON object (a model's malformed call)
    /// become <c>{}</c>: Anthropic's input must be an object, and the client sees the call and can answer it.
    /// </summary>
    public static void WriteAsInput(ref RawJsonWriter json, ReadOnlySpan<byte> argumentsToken)
    {
        if (argumentsToken.Length <= 2)
        {
            json.Raw("{}"u8);
            return;
        }

        var reader = new Utf8JsonReader(argumentsToken);
        reader.Read();
        var rented = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length);
        try
        {
            var length = reader.CopyString(rented);
            var text = rented.AsSpan(0, length);
            json.Raw(IsObject(text) ? text : "{}"u8);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static bool IsObject(ReadOnlySpan<byte> text)
    {
        try
        {
            var reader = new Utf8JsonReader(text);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
