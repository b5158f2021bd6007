using System.Text;
using Proxy.Transforms.Streaming;

namespace Proxy.Transforms.Tests.Streaming;

public sealed class UsageChunkFilterTests
{
    private const string Content1 = "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n";
    private const string Content2 = "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n";
    private const string UsageChunk = "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n";
    private const string Done = "data: [DONE]\n\n";

    [Fact]
    public void Usage_only_event_is_removed_wherever_the_stream_is_split()
    {
        var input = Content1 + Content2 + UsageChunk + Done;
        var expected = Content1 + Content2 + Done;
        for (var split = 0; split <= input.Length; split++)
        {
            Assert.Equal(expected, Run(input, split, input.Length));
        }
    }

    [Fact]
    public void Stream_split_into_many_small_pieces_keeps_every_other_byte()
    {
        var input = Content1 + Content2 + UsageChunk + Done;
        for (var size = 1; size <= 17; size++)
        {
            Assert.Equal(Content1 + Content2 + Done, RunPieces(input, size));
        }
    }

    [Fact]
    public void Content_that_mentions_usage_is_kept()
    {
        var tricky = "data: {\"choices\":[{\"delta\":{\"content\":\"\\\"choices\\\":[] and \\\"usage\\\": text\"}}],\"usage\":null}\n\n";
        Assert.Equal(tricky + Done, RunPieces(tricky + Done, 7));
    }

    [Fact]
    public void Event_longer_than_the_hold_buffer_passes_through_unchanged()
    {
        var big = "data: {\"choices\":[{\"delta\":{\"content\":\"" + new string('x', UsageChunkFilter.Capacity * 2) + "\"}}]}\n\n";
        var input = big + UsageChunk + Done;
        Assert.Equal(big + Done, RunPieces(input, 1000));
        Assert.Equal(big + Done, RunPieces(input, UsageChunkFilter.Capacity + 3));
    }

    [Fact]
    public void Incomplete_last_event_is_released_at_the_end()
    {
        var filter = new UsageChunkFilter();
        filter.Reset(active: true);
        var buffer = Encoding.UTF8.GetBytes(Content1 + "data: {\"partial");
        var send = filter.Filter(buffer);

        Assert.Equal(Content1, Encoding.UTF8.GetString(buffer, 0, send));
        var rest = new byte[filter.PendingLength];
        filter.TakePending(rest);
        Assert.Equal("data: {\"partial", Encoding.UTF8.GetString(rest));
    }

    [Fact]
    public void Filter_allocates_nothing()
    {
        var filter = new UsageChunkFilter();
        var input = Encoding.UTF8.GetBytes(Content1 + Content2 + UsageChunk + Done);
        var buffer = new byte[input.Length + UsageChunkFilter.Capacity];
        filter.Reset(active: true);
        RunInto(filter, input, buffer);

        var before = GC.GetAllocatedBytesForCurrentThread();
        filter.Reset(active: true);
        var sent = RunInto(filter, input, buffer);

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal((Content1 + Content2 + Done).Length, sent);
    }

    private static int RunInto(UsageChunkFilter filter, byte[] input, byte[] buffer)
    {
        var sent = 0;
        for (var offset = 0; offset < input.Length; offset += 9)
        {
            var carried = filter.TakePending(buffer);
            var length = Math.Min(9, input.Length - offset);
            input.AsSpan(offset, length).CopyTo(buffer.AsSpan(carried));
            sent += filter.Filter(buffer.AsSpan(0, carried + length));
        }

        return sent + filter.TakePending(buffer);
    }

    private static string Run(string input, int split, int length)
    {
        var bytes = Encoding.UTF8.GetBytes(input);
        return Feed(bytes, [split, length]);
    }

    private static string RunPieces(string input, int size)
    {
        var bytes = Encoding.UTF8.GetBytes(input);
        var cuts = new List<int>();
        for (var at = size; at < bytes.Length; at += size)
        {
            cuts.Add(at);
        }

        cuts.Add(bytes.Length);
        return Feed(bytes, cuts);
    }

    // Feeds the pieces as the copier does (held bytes first) and returns what the client would receive.
    private static string Feed(byte[] bytes, IReadOnlyList<int> cuts)
    {
        var filter = new UsageChunkFilter();
        filter.Reset(active: true);
        var output = new MemoryStream();
        var start = 0;
        foreach (var cut in cuts)
        {
            var piece = bytes.AsSpan(start, cut - start);
            start = cut;
            var buffer = new byte[filter.PendingLength + piece.Length];
            var carried = filter.TakePending(buffer);
            piece.CopyTo(buffer.AsSpan(carried));
            var send = filter.Filter(buffer);
            output.Write(buffer, 0, send);
        }

        var rest = new byte[filter.PendingLength];
        filter.TakePending(rest);
        output.Write(rest);
        return Encoding.UTF8.GetString(output.ToArray());
    }
}
