using BenchmarkDotNet.Attributes;
using Proxy.Transforms.Body;

namespace Proxy.Benchmarks;

/// <summary>The per-request body work: scan the top level, then splice the deployment's model name in.</summary>
[MemoryDiagnoser]
public class RequestParseBenchmarks
{
    private byte[] _body = [];

    [Params(RequestBodyKind.Small, RequestBodyKind.SdkOrder12K, RequestBodyKind.Prompt100K, RequestBodyKind.ToolCall, RequestBodyKind.Chinese12K)]
    public RequestBodyKind Body { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _body = RequestBodies.Create(Body);
        // A body that fails to scan would benchmark the error path instead.
        if (RequestScanner.Scan(_body, out var scan) != ScanStatus.Ok || scan.Model != "qwen3")
        {
            throw new InvalidOperationException($"Benchmark body {Body} does not scan.");
        }

        Console.WriteLine($"// {Body}: {_body.Length} bytes, {scan.StripCount} stripped");
    }

    [Benchmark(Baseline = true)]
    public ScanStatus Scan() => RequestScanner.Scan(_body, out _);

    /// <summary>The UTF-8 check every body gets before the scan (RFC 8259: JSON text is UTF-8).</summary>
    [Benchmark]
    public bool Utf8Validate() => System.Text.Unicode.Utf8.IsValid(_body);

    [Benchmark]
    public int ScanAndSplice()
    {
        RequestScanner.Scan(_body, out var scan);
        using var output = BodySplicer.Splice(_body, in scan, "Qwen/Qwen3-8B-Instruct", forceIncludeUsage: true);
        return output.Length;
    }
}
