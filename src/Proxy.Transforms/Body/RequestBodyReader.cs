using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Proxy.Transforms.Body;

/// <summary>Reads a request body once into a pooled buffer, refusing oversized bodies.</summary>
public static class RequestBodyReader
{
    // Without Content-Length, start at a size that holds a typical chat request in one rent.
    private const int InitialChunkedSize = 16 * 1024;

    // A declared length is a promise, not bytes: beyond this the buffer grows only as bytes arrive, so clients that
    // declare 32 MB and then trickle (or never send) cannot make the gateway commit 32 MB each.
    private const int MaxInitialDeclaredSize = 64 * 1024;

    /// <summary>
    /// Reads the whole body. A Content-Length over <paramref name="maxBytes"/> is refused before reading; otherwise
    /// it sizes the first rent (up to 64 KB) and the buffer doubles as bytes arrive, never past the declared length.
    /// The server's own body limit (1 MB for the whole app) is raised to <paramref name="maxBytes"/> for this request.
    /// The caller owns (disposes) the returned body.
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

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } serverLimit)
        {
            serverLimit.MaxRequestBodySize = limit;
        }

        // One spare byte lets us see, without a second read, that a body overran its declared length.
        var cap = contentLength is { } declared ? (int)declared + 1 : limit + 1;
        var initial = Math.Min(cap, contentLength is null ? InitialChunkedSize : MaxInitialDeclaredSize);
        return ReadCoreAsync(request.Body, limit, initial, cap, cancellationToken);
    }

    private static async ValueTask<BodyReadResult> ReadCoreAsync(Stream body, int limit, int initialSize, int cap, CancellationToken cancellationToken)
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

                    buffer = Grow(buffer, length, cap, limit);
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

    private static byte[] Grow(byte[] buffer, int length, int cap, int limit)
    {
        // Doubling, but never past the declared length + 1 (or limit + 1): that one extra byte is enough to prove the
        // body is longer than it said (or too large). A body that overran its declared length goes on up to the limit.
        var size = (int)Math.Min((long)buffer.Length * 2, length < cap ? cap : (long)limit + 1);
        var larger = ArrayPool<byte>.Shared.Rent(size);
        buffer.AsSpan(0, length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }
}
