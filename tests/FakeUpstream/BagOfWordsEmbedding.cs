using System.Globalization;
using System.Text;

namespace FakeUpstream;

/// <summary>
/// A stand-in for a sentence-embedding model whose similarity is easy to reason about: every content word (lower-cased
/// letters and digits; each CJK character is a word of its own; a few English function words are dropped) adds a
/// signed unit to one of the vector's dimensions chosen by hashing the word, and the sum is normalised. The cosine of
/// two texts is then about shared words / sqrt(words of one × words of the other): "What is the capital of France?" and
/// "Tell me the capital of France" share all their content words (capital, france) and score 1, while "How do I bake
/// bread?" scores 0 against both. Public so that tests can compute the vectors the fake serves.
/// </summary>
public static class BagOfWordsEmbedding
{
    // Words that carry no content; without them short paraphrases ("what is X" / "tell me X") match as a real model would.
    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "is", "are", "was", "be", "do", "does", "did",
        "what", "whats", "which", "who", "how", "me", "my", "i", "you", "your", "please", "tell", "can", "could",
        "would", "it", "this", "that", "about", "give", "explain",
    };

    public static float[] Embed(string text, int dimensions)
    {
        var vector = new float[Math.Max(1, dimensions)];
        foreach (var word in Words(text))
        {
            var hash = Fnv(word);
            var slot = (int)(hash % (ulong)vector.Length);
            vector[slot] += (hash & (1UL << 63)) == 0 ? 1f : -1f;
        }

        var norm = 0.0;
        foreach (var value in vector)
        {
            norm += value * value;
        }

        if (norm == 0)
        {
            // No content words: a fixed vector, so that such texts match each other and nothing else much.
            vector[0] = 1;
            return vector;
        }

        var scale = (float)(1 / Math.Sqrt(norm));
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] *= scale;
        }

        return vector;
    }

    /// <summary>The content words of <paramref name="text"/>, as the embedding sees them.</summary>
    public static IEnumerable<string> Words(string text)
    {
        var word = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (IsCjk(rune))
            {
                if (Flush(word) is { } before)
                {
                    yield return before;
                }

                yield return rune.ToString();
            }
            else if (Rune.IsLetterOrDigit(rune))
            {
                word.Append(Rune.ToLowerInvariant(rune).ToString());
            }
            else if (Flush(word) is { } done)
            {
                yield return done;
            }
        }

        if (Flush(word) is { } last)
        {
            yield return last;
        }
    }

    private static string? Flush(StringBuilder word)
    {
        if (word.Length == 0)
        {
            return null;
        }

        var text = word.ToString();
        word.Clear();
        return StopWords.Contains(text) ? null : text;
    }

    private static bool IsCjk(Rune rune) =>
        Rune.GetUnicodeCategory(rune) == UnicodeCategory.OtherLetter && rune.Value is >= 0x2E80 and <= 0x9FFF or >= 0xAC00 and <= 0xD7AF or >= 0xF900 and <= 0xFAFF;

    private static ulong Fnv(string word)
    {
        var state = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(word))
        {
            state = (state ^ b) * 1099511628211UL;
        }

        // Mix the high bits down: the slot comes from the low ones, the sign from the top one.
        state ^= state >> 29;
        state *= 0xBF58476D1CE4E5B9UL;
        return state ^ (state >> 32);
    }
}
