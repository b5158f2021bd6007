using Microsoft.AspNetCore.Http;
using Proxy.Transforms.Body;

namespace Proxy.Transforms.Tests.Body;

public sealed class RequestBodyReaderTests
{
    [Theory]
    [InlineData(0, true)]
    [InlineData(1, true)]
    [InlineData(100, true)]
    [InlineData(100_000, true)]
    [InlineData(100, false)]
    [InlineData(100_000, false)]
    [InlineData(1_000_000, false)]
    public async Task Reads_the_whole_body(int size, bool declareLength)
    {
        var payload = Payload(size);
        var context = Context(new TrickleStream(payload, chunk: 997), declareLength ? size : null);

        var result = await RequestBodyReader.ReadAsync(context.Request, 2_000_000, CancellationToken.None);
        using var body = result.Body;

        Assert.False(result.TooLarge);
        Assert.Equal(payload, body.Span.ToArray());
    }

    [Fact]
    public async Task Declared_length_over_the_limit_is_refused_without_reading()
    {
        var context = Context(new ThrowingStream(), contentLength: 1001);
        var result = await RequestBodyReader.ReadAsync(context.Request, 1000, CancellationToken.None);
        Assert.True(result.TooLarge);
        Assert.Equal(0, result.Body.Length);
    }

    [Theory]
    [InlineData(1000, true)]
    [InlineData(1001, false)]
    [InlineData(70_000, false)]
    public async Task Chunked_body_is_refused_once_it_passes_the_limit(int size, bool fits)
    {
        var context = Context(new TrickleStream(Payload(size), chunk: 300), contentLength: null);
        var result = await RequestBodyReader.ReadAsync(context.Request, 1000, CancellationToken.None);
        using var body = result.Body;
        Assert.Equal(!fits, result.TooLarge);
        Assert.Equal(fits ? size : 0, body.Length);
    }

    [Fact]
    public async Task Body_longer_than_declared_is_still_read_and_limited()
    {
        var payload = Payload(50);
        var small = await RequestBodyReader.ReadAsync(Context(new MemoryStream(payload), 10).Request, 40, CancellationToken.None);
        Assert.True(small.TooLarge);

        var large = await RequestBodyReader.ReadAsync(Context(new MemoryStream(payload), 10).Request, 100, CancellationToken.None);
        using var body = large.Body;
        Assert.Equal(payload, body.Span.ToArray());
    }

    [Fact]
    public async Task Declared_length_is_not_rented_before_its_bytes_arrive()
    {
        // 32 MB declared, 100 bytes sent: the buffer is sized by what arrived, not by the promise.
        var context = Context(new MemoryStream(Payload(100)), contentLength: 32 * 1024 * 1024);
        var result = await RequestBodyReader.ReadAsync(context.Request, 64 * 1024 * 1024, CancellationToken.None);
        using var body = result.Body;
        Assert.Equal(100, body.Length);
        Assert.True(body.Array.Length <= 64 * 1024, $"rented {body.Array.Length} bytes for a 100-byte body");
    }

    [Fact]
    public async Task Large_declared_body_grows_to_its_length()
    {
        var payload = Payload(300_000);
        var context = Context(new TrickleStream(payload, chunk: 7_001), contentLength: payload.Length);
        var result = await RequestBodyReader.ReadAsync(context.Request, 1_000_000, CancellationToken.None);
        using var body = result.Body;
        Assert.Equal(payload, body.Span.ToArray());
    }

    [Fact]
    public async Task Cancellation_propagates()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        var context = Context(new TrickleStream(Payload(10), chunk: 1), contentLength: null);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await RequestBodyReader.ReadAsync(context.Request, 100, cts.Token));
    }

    private static byte[] Payload(int size)
    {
        var payload = new byte[size];
        for (var i = 0; i < size; i++)
        {
            payload[i] = (byte)('a' + (i % 26));
        }

        return payload;
    }

    private static DefaultHttpContext Context(Stream body, long? contentLength)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = body;
        context.Request.ContentLength = contentLength;
        return context;
    }

    /// <summary>Returns at most <c>chunk</c> bytes per read, like a slow client.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return base.ReadAsync(buffer[..Math.Min(chunk, buffer.Length)], cancellationToken);
        }
    }

    private sealed class ThrowingStream : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("must not read");
    }
}
