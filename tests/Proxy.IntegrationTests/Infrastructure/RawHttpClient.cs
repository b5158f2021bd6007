using System.Net.Sockets;
using System.Text;

namespace Proxy.IntegrationTests.Infrastructure;

/// <summary>
/// An HTTP/1.1 client over a bare socket, for what HttpClient will not do: declare a body it never finishes sending,
/// or keep sending after the server has answered.
/// </summary>
public sealed class RawHttpClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawHttpClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawHttpClient> ConnectAsync(int port)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port);
        return new RawHttpClient(tcp);
    }

    /// <summary>Sends the request line and headers (with the given Content-Length) and nothing of the body.</summary>
    public Task SendHeadersAsync(string method, string path, long contentLength, string contentType, params string[] headers)
    {
        var text = new StringBuilder();
        text.Append(method).Append(' ').Append(path).Append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        text.Append("Content-Type: ").Append(contentType).Append("\r\n");
        text.Append("Content-Length: ").Append(contentLength).Append("\r\n");
        foreach (var header in headers)
        {
            text.Append(header).Append("\r\n");
        }

        text.Append("\r\n");
        return SendAsync(Encoding.ASCII.GetBytes(text.ToString()));
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>
    /// Sends up to <paramref name="total"/> bytes made by <paramref name="fill"/> in pieces, stopping early when the
    /// server stops reading (the connection is reset or closed). Returns the number of bytes the socket accepted.
    /// </summary>
    public async Task<long> SendBodyAsync(long total, Func<long, byte[]> fill, CancellationToken cancellationToken)
    {
        long sent = 0;
        try
        {
            while (sent < total && !cancellationToken.IsCancellationRequested)
            {
                var piece = fill(sent);
                var length = (int)Math.Min(piece.Length, total - sent);
                await _stream.WriteAsync(piece.AsMemory(0, length), cancellationToken);
                sent += length;
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The server closed the connection: it will read no more.
        }

        return sent;
    }

    /// <summary>Reads until the status line and headers have arrived; returns the status code (0 if the connection closed first).</summary>
    public async Task<int> ReadStatusAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        var received = new StringBuilder();
        while (true)
        {
            int read;
            try
            {
                read = await _stream.ReadAsync(buffer, cancellationToken);
            }
            catch (IOException)
            {
                return Status(received.ToString());
            }

            if (read == 0)
            {
                return Status(received.ToString());
            }

            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
            var text = received.ToString();
            if (text.Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                return Status(text);
            }
        }
    }

    private static int Status(string text) =>
        text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && text.Length >= 12 && int.TryParse(text.AsSpan(9, 3), out var status) ? status : 0;

    public ValueTask DisposeAsync()
    {
        _stream.Dispose();
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
