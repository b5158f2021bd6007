using Proxy.Abstractions;

namespace Proxy.Transforms.Caching.Semantic.Prompt;

/// <summary>Which <see cref="IPromptShape"/> reads each endpoint's body; null for endpoints the semantic cache does not answer.</summary>
internal static class PromptShapes
{
    // Embeddings are not answered by similarity: a similar input must not get another input's vector.
    public static IPromptShape? For(OpenAiEndpoint endpoint) => endpoint switch
    {
        OpenAiEndpoint.ChatCompletions => ChatMessagesShape.Instance,
        OpenAiEndpoint.Completions => CompletionPromptShape.Instance,
        OpenAiEndpoint.Responses => ResponsesInputShape.Instance,
        _ => null,
    };
}
