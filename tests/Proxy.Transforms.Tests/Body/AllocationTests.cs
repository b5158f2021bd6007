using System.Text;
using Proxy.Transforms.Body;

namespace Proxy.Transforms.Tests.Body;

public sealed class AllocationTests
{
    [Fact]
    public void Scan_of_a_large_body_allocates_only_the_model_string()
    {
        var body = Encoding.UTF8.GetBytes(BodyTestHelpers.MessagesBody(12_000, modelLast: true));
        Assert.Equal(ScanStatus.Ok, RequestScanner.Scan(body, out _));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var status = RequestScanner.Scan(body, out var scan);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(ScanStatus.Ok, status);
        Assert.Equal("qwen3", scan.Model);
        // "qwen3" is a 32-byte string object on 64-bit; nothing else may be allocated.
        Assert.InRange(allocated, 1, 100);
    }

    [Fact]
    public void Splice_allocates_nothing_once_the_pool_is_warm()
    {
        var body = Encoding.UTF8.GetBytes(BodyTestHelpers.MessagesBody(12_000, modelLast: true).Replace("\"stream\":true", "\"stream\":true,\"metadata\":{\"a\":1}", StringComparison.Ordinal));
        Assert.Equal(ScanStatus.Ok, RequestScanner.Scan(body, out var scan));
        Assert.Equal(1, scan.StripCount);
        BodySplicer.Splice(body, in scan, "Qwen/Qwen3-8B", forceIncludeUsage: true).Dispose();

        var before = GC.GetAllocatedBytesForCurrentThread();
        using (BodySplicer.Splice(body, in scan, "Qwen/Qwen3-8B", forceIncludeUsage: true))
        {
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
