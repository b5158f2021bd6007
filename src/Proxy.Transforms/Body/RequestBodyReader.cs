using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Proxy.Transforms.Body;

/// <summary>Reads a request body once into a pooled buffer, refusing oversized bodies.</summary>
public static class RequestBodyReader
{
    // Without Content-Length, start at a size that holds a typical chat request in one rent.
    private const int InitialChunkedSize = 16 * 1024;

    /// <summary>
    /// Reads the whole body. A Content-Length over <paramref name="maxBytes"/> is refused before reading; otherwise
    /// it sizes the rent, and a chunked body grows by doubling. The caller owns (disposes) the returned body.
    /// </summary>
    public static ValueTask<BodyReadResult> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);

        // A pooled array cannot exceed Array.MaxLength, so neither can a body we accept.
        var limit = (int)Math.Min(maxBytes, Array.MaxLength - 1);
        var contentLength = request.ContentLength;
        if (contentLength > limit)
        {
            return ValueTask.FromResult(new BodyReadResult(default, TooLarge: true));
        }

        if (contentLength == 0)
        {
            return ValueTask.FromResult(new BodyReadResult(default, TooLarge: false));
        }

        // One spare byte lets us see, without a second read, that a body overran its declared length.
        var initial = contentLength is { } declared ? (int)declared + 1 : Math.Min(InitialChunkedSize, limit + 1);
        return ReadCoreAsync(request.Body, limit, initial, cancellationToken);
    }

    private static async ValueTask<BodyReadResult> ReadCoreAsync(Stream body, int limit, int initialSize, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(initialSize);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        break;
                    }

                    buffer = Grow(buffer, length, limit);
                }

                var read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    break;
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        if (length > limit)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return new BodyReadResult(default, TooLarge: true);
        }

        return new BodyReadResult(new PooledBuffer(buffer, length), TooLarge: false);
    }

    private static byte[] Grow(byte[] buffer, int length, int limit)
    {
        // Doubling, but never past limit + 1: that one extra byte is enough to prove the body is too large.
        var size = (int)Math.Min((long)buffer.Length * 2, (long)limit + 1);
        var larger = ArrayPool<byte>.Shared.Rent(size);
        buffer.AsSpan(0, length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }
}
