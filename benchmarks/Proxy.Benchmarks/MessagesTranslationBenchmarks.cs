using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Proxy.Transforms.Body;
using Proxy.Transforms.Protocols.Anthropic;

namespace Proxy.Benchmarks;

/// <summary>
/// What /v1/messages costs over chat: the request translation (plus the second scan of the chat body it produces),
/// and the response translations, JSON and a 20-event stream, against the chat-only baseline of scanning the same request.
/// </summary>
[MemoryDiagnoser]
public class MessagesTranslationBenchmarks
{
    // About 1 KB, shaped like Claude Code's: a system prompt in blocks, one tool, a tool round trip.
    private static readonly byte[] MessagesBody = Encoding.UTF8.GetBytes("""
        {"model":"qwen3-coder","max_tokens":1024,"stream":true,"metadata":{"user_id":"user-1"},
         "system":[{"type":"text","text":"You are a coding agent working in a repository. Answer briefly and use tools when needed."},
                   {"type":"text","text":"Environment: linux, bash, git repository.","cache_control":{"type":"ephemeral"}}],
         "tools":[{"name":"Read","description":"Reads a file from the local filesystem.","input_schema":{"type":"object","properties":{"file_path":{"type":"string","description":"Absolute path"},"limit":{"type":"number"}},"required":["file_path"]}}],
         "messages":[
           {"role":"user","content":[{"type":"text","text":"Read README.md and tell me what the project does in one sentence, please."}]},
           {"role":"assistant","content":[{"type":"text","text":"I'll read it."},{"type":"tool_use","id":"toolu_01","name":"Read","input":{"file_path":"/repo/README.md"}}]},
           {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":"# Gateway\nA drop-in LiteLLM replacement on YARP for fleets of vLLM servers, with routing, keys, budgets and a cache."}]}]}
        """);

    private static readonly byte[] ChatBody = Translate(MessagesBody);

    private static readonly byte[] ChatAnswer = Encoding.UTF8.GetBytes("""
        {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"Qwen/Qwen3-Coder","choices":[{"index":0,"message":{"role":"assistant","content":"It is a fast drop-in LiteLLM replacement for vLLM fleets, written on YARP.","tool_calls":[]},"finish_reason":"stop","stop_reason":null}],"usage":{"prompt_tokens":310,"completion_tokens":18,"total_tokens":328}}
        """);

    private static readonly byte[][] ChatChunks = BuildChunks();

    private readonly ArrayBufferWriter<byte> _output = new(8192);

    [Benchmark(Baseline = true, Description = "chat: scan the request")]
    public ScanStatus ChatScan() => RequestScanner.Scan(ChatBody, out _);

    [Benchmark(Description = "messages: translate the request and scan the chat body")]
    public ScanStatus MessagesRequest()
    {
        _output.ResetWrittenCount();
        MessagesRequestTranslator.Translate(MessagesBody, _output, countTokens: false);
        return RequestScanner.Scan(_output.WrittenSpan, out _);
    }

    [Benchmark(Description = "messages: translate a JSON answer")]
    public int MessagesResponse()
    {
        _output.ResetWrittenCount();
        ChatToMessagesResponseTranslator.Translate(ChatAnswer, "qwen3-coder", _output);
        return _output.WrittenCount;
    }

    [Benchmark(Description = "messages: translate a 20-event stream", OperationsPerInvoke = 20)]
    public int MessagesStream()
    {
        _output.ResetWrittenCount();
        using var translator = new ChatToMessagesStreamTranslator("qwen3-coder", 300);
        foreach (var chunk in ChatChunks)
        {
            translator.Write(chunk, _output);
        }

        translator.Complete(_output);
        return _output.WrittenCount;
    }

    [Benchmark(Description = "anthropic/: translate a chat request to Messages")]
    public int OutboundRequest()
    {
        _output.ResetWrittenCount();
        ChatRequestToMessagesTranslator.Translate(ChatBody, "claude-sonnet-4-5", _output);
        return _output.WrittenCount;
    }

    private static byte[] Translate(byte[] messages)
    {
        var output = new ArrayBufferWriter<byte>();
        if (MessagesRequestTranslator.Translate(messages, output, countTokens: false) is { } error)
        {
            throw new InvalidOperationException(error.Message);
        }

        return output.WrittenSpan.ToArray();
    }

    private static byte[][] BuildChunks()
    {
        var chunks = new List<byte[]> { Chunk("{\"role\":\"assistant\",\"content\":\"\"}", "null") };
        for (var i = 0; i < 17; i++)
        {
            chunks.Add(Chunk("{\"content\":\" word" + i + "\"}", "null"));
        }

        chunks.Add(Chunk("{}", "\"stop\""));
        chunks.Add(Encoding.UTF8.GetBytes("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":310,\"completion_tokens\":18}}\n\ndata: [DONE]\n\n"));
        return [.. chunks];
    }

    private static byte[] Chunk(string delta, string finish) => Encoding.UTF8.GetBytes(
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":" + delta
        + ",\"logprobs\":null,\"finish_reason\":" + finish + "}]}\n\n");
}
