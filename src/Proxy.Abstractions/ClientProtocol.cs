namespace Proxy.Abstractions;

/// <summary>
/// The API the client speaks. The core pipeline works in OpenAI's shape; a request in another protocol is translated
/// into it at the edge (after auth, before routing) and its answer back, unless the deployment speaks the protocol itself.
/// </summary>
public enum ClientProtocol
{
    /// <summary>OpenAI chat/completions, completions, embeddings, moderations.</summary>
    OpenAi,

    /// <summary>Anthropic Messages (<c>/v1/messages</c>, <c>/v1/messages/count_tokens</c>): Claude Code and the Anthropic SDKs.</summary>
    AnthropicMessages,
}
