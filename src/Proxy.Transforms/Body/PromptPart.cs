namespace Proxy.Transforms.Body;

/// <summary>
/// The top-level members a prompt is made of, in the order the engine renders them: the preamble (tools, response
/// format, vLLM's cache_salt) and then the text (system / instructions first, then messages, prompt or input).
/// </summary>
internal enum PromptPart : byte
{
    Tools,
    ResponseFormat,
    CacheSalt,
    System,
    Instructions,
    Messages,
    Prompt,
    Input,
}
