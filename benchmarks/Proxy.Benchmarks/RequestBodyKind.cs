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
}
