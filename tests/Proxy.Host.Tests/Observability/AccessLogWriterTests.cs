using System.Text;
using Proxy.Host.Observability;

namespace Proxy.Host.Tests.Observability;

public sealed class AccessLogWriterTests
{
    [Fact]
    public void Lines_leave_whole_in_writes_of_at_most_4_KiB_and_all_are_written_by_dispose()
    {
        var output = new RecordingStream();
        var writer = new AccessLogWriter(output);
        var lines = Enumerable.Range(0, 500).Select(i => $"line {i:D4} {new string('x', 90)}\n").ToArray();
        foreach (var line in lines)
        {
            writer.Append(Encoding.UTF8.GetBytes(line));
        }

        writer.Dispose();

        Assert.Equal(string.Concat(lines), Encoding.UTF8.GetString(output.ToArray()));
        Assert.All(output.Writes, write =>
        {
            Assert.InRange(write.Length, 1, 4096);
            Assert.Equal((byte)'\n', write[^1]);
        });
        Assert.Equal(0, writer.Dropped);
    }

    [Fact]
    public void A_stalled_output_drops_lines_beyond_the_bound_instead_of_blocking_the_caller()
    {
        var output = new RecordingStream { Gate = new ManualResetEventSlim(false) };
        var writer = new AccessLogWriter(output);
        var line = Encoding.UTF8.GetBytes(new string('y', 1023) + "\n");
        writer.Append(line);
        Assert.True(output.Entered.Wait(TimeSpan.FromSeconds(10)), "the writer should be inside its first write");

        // 4 MiB of lines fit while the output is stuck; the rest are dropped and counted, and Append never waits.
        for (var i = 0; i < 5000; i++)
        {
            writer.Append(line);
        }

        Assert.InRange(writer.Dropped, 5000 - 4096, 5000 - 4000);
        output.Gate.Set();
        writer.Dispose();
        Assert.Equal((5001 - writer.Dropped) * 1024, output.ToArray().Length);
    }

    private sealed class RecordingStream : MemoryStream
    {
        public List<byte[]> Writes { get; } = [];

        public ManualResetEventSlim? Gate { get; init; }

        public ManualResetEventSlim Entered { get; } = new(false);

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Entered.Set();
            Gate?.Wait(TimeSpan.FromSeconds(30));
            Writes.Add(buffer.ToArray());
            base.Write(buffer);
        }
    }
}
