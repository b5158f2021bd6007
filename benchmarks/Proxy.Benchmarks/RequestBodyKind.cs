namespace Proxy.Benchmarks;

public enum RequestBodyKind
{
    /// <summary>~300 B chat request, model first.</summary>
    Small,

    /// <summary>12k-character prompt, model last as the OpenAI SDKs send it.</summary>
    SdkOrder12K,

    /// <summary>100 KB prompt, model last.</summary>
    Prompt100K,

    /// <summary>Tools array plus a tool-call conversation, model last.</summary>
    ToolCall,

    /// <summary>12k characters of Chinese text (3 UTF-8 bytes each), model last: the non-ASCII path of UTF-8 validation.</summary>
    Chinese12K,
}
