using System.Net;
using System.Text;

namespace Proxy.IntegrationTests.Endpoints;

/// <summary>
/// A multipart/form-data upload of a large WAV written as it is sent, 64 KB at a time, so the test itself holds no
/// copy of the file (only the gateway's memory is what the test measures).
/// </summary>
public sealed class StreamedUpload : HttpContent
{
    private const string Boundary = "----gateway-test-boundary-7d1e";
    private readonly byte[] _head;
    private readonly byte[] _tail;
    private readonly long _dataBytes;

    public StreamedUpload(string model, long dataBytes)
    {
        _dataBytes = dataBytes;
        _head = Encoding.ASCII.GetBytes(
            $"--{Boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n{model}\r\n"
            + $"--{Boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"long.wav\"\r\nContent-Type: audio/wav\r\n\r\n");
        _tail = Encoding.ASCII.GetBytes($"\r\n--{Boundary}--\r\n");
        Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=" + Boundary);
    }

    /// <summary>The file's length: the WAV header and its samples.</summary>
    public long FileBytes => 44 + _dataBytes;

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await stream.WriteAsync(_head);
        var header = new byte[44];
        Wav.WriteHeader(header, _dataBytes);
        await stream.WriteAsync(header);
        var chunk = new byte[64 * 1024];
        for (var left = _dataBytes; left > 0; left -= chunk.Length)
        {
            await stream.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, left)));
        }

        await stream.WriteAsync(_tail);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _head.Length + FileBytes + _tail.Length;
        return true;
    }
}
