using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;
using Proxy.Transforms.Body;

namespace Proxy.Transforms.Usage;

/// <summary>
/// Counts the prompt tokens of an OpenAI request body the way LiteLLM's pre-call context-window check does:
/// tiktoken <c>cl100k_base</c> (LiteLLM's fallback for non-OpenAI models) plus OpenAI's chat framing.
/// </summary>
/// <remarks>
/// One pass with <see cref="Utf8JsonReader"/>; only strings that are tokenized are decoded, into a stack buffer
/// or one rented char array per call. Thread-safe: the tokenizer is immutable after creation and its cache is
/// concurrent. Register as a singleton.
/// </remarks>
public sealed class PromptTokenCounter
{
    // LiteLLM's openai_token_counter: every message is framed as <|start|>{role}<|message|>{content}<|end|>.
    private const int TokensPerMessage = 3;
    private const int TokensPerName = 1;

    // Every reply is primed with <|start|>assistant<|message|>.
    private const int ReplyPrimingTokens = 3;

    // OpenAI's low-detail image cost; we do not fetch or decode images to size them.
    private const int ImageTokens = 85;

    // Strings up to this many UTF-8 bytes decode on the stack (a UTF-8 string never has more chars than bytes).
    private const int StackChars = 512;

    // BPE is quadratic in the length of a pre-tokenized piece (12 k letters without a space take ~200 ms, 12 k
    // spaces ~60 ms), so no run longer than this reaches the tokenizer in one call.
    internal const int MaxPieceChars = 256;

    // Normal text goes to the tokenizer in slices of at most this many chars, cut at word boundaries.
    internal const int SegmentChars = 4096;

    // Loading the 100 k-entry vocabulary takes tens of milliseconds, so it waits for the first request that needs it.
    private readonly Lazy<Tokenizer> _tokenizer = new(CreateTokenizer, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Counts chat <c>messages</c>, legacy <c>prompt</c>, embeddings <c>input</c> and the raw JSON of
    /// <c>tools</c>/<c>functions</c>. Returns 0 for a body it cannot read; never throws.
    /// </summary>
    public int CountPromptTokens(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return 0;
        }

        char[]? rented = null;
        try
        {
            return CountBody(body, ref rented);
        }
        catch (JsonException)
        {
            // Malformed JSON (including depth overflow): the caller falls back to not checking.
            return 0;
        }
        catch (InvalidOperationException)
        {
            // CopyString throws this, not JsonException, for a string that is not valid UTF-8.
            return 0;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private static Tokenizer CreateTokenizer() => TiktokenTokenizer.CreateForEncoding("cl100k_base");

    private int CountBody(ReadOnlySpan<byte> body, ref char[]? rented)
    {
        var reader = new Utf8JsonReader(body, RequestScanner.ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return 0;
        }

        var total = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("messages"u8))
            {
                reader.Read();
                total += CountMessages(ref reader, body, ref rented);
            }
            else if (reader.ValueTextEquals("prompt"u8) || reader.ValueTextEquals("input"u8))
            {
                reader.Read();
                total += CountPromptValue(ref reader, ref rented);
            }
            else if (reader.ValueTextEquals("tools"u8) || reader.ValueTextEquals("functions"u8))
            {
                reader.Read();
                total += CountRawJson(ref reader, body, ref rented);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        // The loop ends on the closing brace; anything but whitespace after it makes Read throw.
        return reader.TokenType == JsonTokenType.EndObject && !reader.Read() ? total : 0;
    }

    private int CountMessages(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, ref char[]? rented)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return 0;
        }

        var total = ReplyPrimingTokens;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            total += TokensPerMessage + CountMessage(ref reader, body, ref rented);
        }

        return total;
    }

    private int CountMessage(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, ref char[]? rented)
    {
        var total = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isName = reader.ValueTextEquals("name"u8);
            var isContent = !isName && reader.ValueTextEquals("content"u8);
            var isToolCalls = !isName && !isContent && reader.ValueTextEquals("tool_calls"u8);
            reader.Read();
            if (reader.TokenType == JsonTokenType.String)
            {
                // LiteLLM tokenizes every string member of a message (role, content, name, tool_call_id).
                total += CountString(ref reader, ref rented) + (isName ? TokensPerName : 0);
            }
            else if (isContent && reader.TokenType == JsonTokenType.StartArray)
            {
                total += CountParts(ref reader, ref rented);
            }
            else if (isToolCalls)
            {
                // An assistant turn's tool calls are prompt for the next call; their JSON is a fair stand-in.
                total += CountRawJson(ref reader, body, ref rented);
            }
            else
            {
                reader.Skip();
            }
        }

        return total;
    }

    private int CountParts(ref Utf8JsonReader reader, ref char[]? rented)
    {
        var total = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                total += CountPart(ref reader, ref rented);
            }
            else if (reader.TokenType == JsonTokenType.String)
            {
                total += CountString(ref reader, ref rented);
            }
            else
            {
                reader.Skip();
            }
        }

        return total;
    }

    private int CountPart(ref Utf8JsonReader reader, ref char[]? rented)
    {
        // "type" may follow "text", so the text is counted as it passes and kept only if the part is text.
        var isText = true;
        var isImage = false;
        var textTokens = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                var isString = reader.TokenType == JsonTokenType.String;
                isText = isString && (reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("input_text"u8));
                isImage = isString && (reader.ValueTextEquals("image_url"u8) || reader.ValueTextEquals("input_image"u8));
                reader.Skip();
            }
            else if (reader.ValueTextEquals("text"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    textTokens += CountString(ref reader, ref rented);
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return isImage ? ImageTokens : isText ? textTokens : 0;
    }

    private int CountPromptValue(ref Utf8JsonReader reader, ref char[]? rented)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return CountString(ref reader, ref rented);
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return 0;
        }

        // Strings, arrays of strings, token ids and arrays of token-id arrays: a token id is one token.
        var total = 0;
        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                total += CountString(ref reader, ref rented);
            }
            else if (reader.TokenType == JsonTokenType.Number)
            {
                total++;
            }
            else if (reader.TokenType == JsonTokenType.StartObject)
            {
                reader.Skip();
            }
        }

        return total;
    }

    private int CountRawJson(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, ref char[]? rented)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return 0;
        }

        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        return CountUtf8(body[start..(int)reader.BytesConsumed], ref rented);
    }

    private int CountString(ref Utf8JsonReader reader, ref char[]? rented)
    {
        // Unescaping never lengthens a string, and UTF-8 never has more chars than bytes.
        var maxChars = reader.ValueSpan.Length;
        if (maxChars == 0)
        {
            return 0;
        }

        if (maxChars <= StackChars)
        {
            Span<char> buffer = stackalloc char[StackChars];
            var written = reader.CopyString(buffer);
            return CountText(buffer[..written]);
        }

        var chars = Rent(ref rented, maxChars);
        var length = reader.CopyString(chars);
        return CountText(chars.AsSpan(0, length));
    }

    private int CountUtf8(ReadOnlySpan<byte> utf8, ref char[]? rented)
    {
        var chars = Rent(ref rented, utf8.Length);
        var length = Encoding.UTF8.GetChars(utf8, chars);
        return CountText(chars.AsSpan(0, length));
    }

    /// <summary>
    /// Tokenizes <paramref name="text"/> in slices that end at word boundaries, where the count is the same as for
    /// the whole text, and forces a cut only inside a run of <see cref="MaxPieceChars"/> chars with no boundary.
    /// </summary>
    internal int CountText(ReadOnlySpan<char> text)
    {
        var tokenizer = _tokenizer.Value;
        if (text.Length <= MaxPieceChars)
        {
            return tokenizer.CountTokens(text);
        }

        var total = 0;
        var segmentStart = 0;
        var cut = 0;
        while (cut < text.Length)
        {
            var next = NextWordBoundary(text, cut);
            if (next < 0)
            {
                // A long word, base64, or a run of spaces or punctuation: counted alone in slices, each off by at
                // most a token where it was cut.
                if (cut > segmentStart)
                {
                    total += tokenizer.CountTokens(text[segmentStart..cut]);
                }

                var end = cut + MaxPieceChars;
                if (char.IsHighSurrogate(text[end - 1]))
                {
                    end--;
                }

                total += tokenizer.CountTokens(text[cut..end]);
                segmentStart = end;
                cut = end;
                continue;
            }

            if (next - segmentStart > SegmentChars && cut > segmentStart)
            {
                total += tokenizer.CountTokens(text[segmentStart..cut]);
                segmentStart = cut;
            }

            cut = next;
        }

        return cut > segmentStart ? total + tokenizer.CountTokens(text[segmentStart..cut]) : total;
    }

    /// <summary>
    /// The first word boundary after <paramref name="from"/> and at most <see cref="MaxPieceChars"/> past it (or the
    /// end of <paramref name="text"/>); -1 when there is none that close.
    /// </summary>
    /// <remarks>
    /// A boundary is where no cl100k pre-tokenizer piece can continue, so cutting there does not change the count:
    /// a space followed by a non-space (<c>\s+(?!\S)</c> leaves the last space of a run to the next word), or the
    /// end of a run of letters (only letter pieces hold letters, and <c>\p{L}+</c> stops there). The second kind
    /// keeps Chinese and Japanese, which have no spaces, exact at their punctuation.
    /// </remarks>
    private static int NextWordBoundary(ReadOnlySpan<char> text, int from)
    {
        var limit = Math.Min(text.Length, from + MaxPieceChars + 1);
        var previousIsLetter = char.IsLetter(text[from]);
        for (var i = from + 1; i < limit; i++)
        {
            var c = text[i];
            var isLetter = char.IsLetter(c);
            if (c == ' ' ? i + 1 < text.Length && !char.IsWhiteSpace(text[i + 1]) : previousIsLetter && !isLetter && !char.IsSurrogate(c))
            {
                return i;
            }

            previousIsLetter = isLetter;
        }

        return limit == text.Length ? text.Length : -1;
    }

    private static char[] Rent(ref char[]? rented, int minimumLength)
    {
        if (rented is not null && rented.Length >= minimumLength)
        {
            return rented;
        }

        if (rented is not null)
        {
            ArrayPool<char>.Shared.Return(rented);
            rented = null;
        }

        rented = ArrayPool<char>.Shared.Rent(minimumLength);
        return rented;
    }
}
