using System.Text;
using System.Text.Json;

namespace Proxy.Transforms.Caching.Semantic.Prompt;

/// <summary>
/// How one kind of request body carries its prompt. The semantic cache embeds the prompt's text and must match
/// everything else exactly, so a shape splits the member that holds the prompt in two: the text to embed, and a
/// skeleton (the member with that text blanked) that goes into the exact scope with the rest of the body. One shape per
/// body kind (chat <c>messages</c>, completions <c>prompt</c>; Responses <c>input</c> and Anthropic <c>messages</c> are
/// added the same way).
/// </summary>
internal interface IPromptShape
{
    /// <summary>The top-level member that holds the prompt.</summary>
    string Member { get; }

    /// <summary>
    /// Writes <paramref name="value"/> (the member's raw JSON) to <paramref name="skeleton"/> with the embedded text
    /// blanked, and appends that text to <paramref name="text"/>. False when the value has no text to embed (token ids,
    /// an unexpected shape): the request is then not cached semantically.
    /// </summary>
    bool Split(ReadOnlySpan<byte> value, Utf8JsonWriter skeleton, StringBuilder text);
}
