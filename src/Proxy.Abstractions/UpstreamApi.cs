namespace Proxy.Abstractions;

/// <summary>The API a deployment's upstream speaks for chat; the deployment's transformer translates to it.</summary>
public enum UpstreamApi
{
    /// <summary>OpenAI's (vLLM, OpenAI, Azure OpenAI, Azure AI, any OpenAI-compatible server).</summary>
    OpenAi,

    /// <summary>Anthropic Messages (<c>anthropic/</c> deployments): chat is translated to <c>/v1/messages</c> and back.</summary>
    AnthropicMessages,
}
