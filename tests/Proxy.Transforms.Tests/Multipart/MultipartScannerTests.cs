using System.Text;
using Proxy.Transforms.Multipart;

namespace Proxy.Transforms.Tests.Multipart;

public sealed class MultipartScannerTests
{
    private const string Boundary = "XyZ-123";

    private static readonly string Body =
        "preamble to ignore\r\n"
        + "--XyZ-123\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
        + "RIFF\r\n--XyZ-12 almost a boundary\r\n\r\nbytes"
        + "\r\n--XyZ-123 \t\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1"
        + "\r\n--XyZ-123\r\ncontent-disposition: form-data; name=\"response_format\"\r\n\r\nsrt"
        + "\r\n--XyZ-123\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nnot read"
        + "\r\n--XyZ-123--\r\nepilogue";

    /// <summary>Scans the body shown in windows of <paramref name="chunk"/> bytes, as the reader does (with its virtual CRLF first).</summary>
    private static MultipartScanner Scan(byte[] body, int chunk)
    {
        var scanner = new MultipartScanner(Boundary);
        var window = new List<byte> { (byte)'\r', (byte)'\n' };
        long windowStart = -2;
        var offset = 0;
        while (true)
        {
            var take = Math.Min(chunk, body.Length - offset);
            window.AddRange(body.AsSpan(offset, take).ToArray());
            offset += take;
            var consumed = scanner.Process(window.ToArray(), windowStart, final: take == 0);
            if (scanner.Error is not null || take == 0)
            {
                return scanner;
            }

            window.RemoveRange(0, consumed);
            windowStart += consumed;
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(13)]
    [InlineData(64)]
    [InlineData(100_000)]
    public void Parts_and_their_positions_come_out_the_same_however_the_body_is_split(int chunk)
    {
        var body = Encoding.ASCII.GetBytes(Body);

        var scanner = Scan(body, chunk);

        Assert.Null(scanner.Error);
        Assert.True(scanner.Completed);
        Assert.Equal(["file", "model", "response_format", "prompt"], scanner.Parts.Select(p => p.Name));
        var file = scanner.Parts[0];
        Assert.Equal("a.wav", file.FileName);
        Assert.Equal("RIFF\r\n--XyZ-12 almost a boundary\r\n\r\nbytes", Encoding.ASCII.GetString(body, (int)file.Start, (int)file.Length));
        Assert.Null(file.Value);
        var model = scanner.Parts[1];
        Assert.Equal("whisper-1", model.Value);
        Assert.Equal("whisper-1", Encoding.ASCII.GetString(body, (int)model.Start, (int)model.Length));
        Assert.Equal("srt", scanner.Parts[2].Value);
        Assert.Null(scanner.Parts[3].Value);
        Assert.StartsWith("RIFF", Encoding.ASCII.GetString(scanner.FileHead), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--XyZ-123\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nm", "closing boundary")]
    [InlineData("no boundary at all", "no boundary")]
    [InlineData("--XyZ-123\r\nContent-Disposition: form-data; name=\"model\"", "headers")]
    [InlineData("--XyZ-123junk\r\n", "line break")]
    public void A_body_that_is_cut_off_or_malformed_is_an_error(string text, string expected)
    {
        var scanner = Scan(Encoding.ASCII.GetBytes(text), 5);

        Assert.NotNull(scanner.Error);
        Assert.Contains(expected, scanner.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_field_longer_than_the_limit_is_refused()
    {
        var text = "--XyZ-123\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n" + new string('m', MultipartScanner.MaxFieldBytes + 1) + "\r\n--XyZ-123--";

        var scanner = Scan(Encoding.ASCII.GetBytes(text), 1000);

        Assert.Contains("longer than", scanner.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_field_of_any_size_costs_no_more_than_its_head()
    {
        var file = new byte[3 * 1024 * 1024];
        var head = Encoding.ASCII.GetBytes("--XyZ-123\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.wav\"\r\n\r\n");
        var tail = Encoding.ASCII.GetBytes("\r\n--XyZ-123--");
        var body = head.Concat(file).Concat(tail).ToArray();

        var scanner = Scan(body, 65536);

        Assert.Null(scanner.Error);
        Assert.Equal(file.Length, scanner.Parts.Single().Length);
        Assert.Equal(MultipartScanner.FileHeadBytes, scanner.FileHead.Length);
    }
}
