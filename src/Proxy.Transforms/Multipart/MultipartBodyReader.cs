using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Proxy.Abstractions;

namespace Proxy.Transforms.Multipart;

/// <summary>
/// Reads a multipart/form-data request once: every byte goes to a <see cref="SpooledBody"/> (memory first, then a temp
/// file) while a <see cref="MultipartScanner"/> finds the form fields, so a large upload never sits in memory and can
/// be sent again for a retry. Refuses what no upstream could use: no boundary, no <c>file</c>, no <c>model</c>, a body
/// over the size limit or cut short.
/// </summary>
public static class MultipartBodyReader
{
    private const int ReadSize = 64 * 1024;

    public static async ValueTask<MultipartReadResult> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (!TryGetBoundary(request.ContentType, out var boundary))
        {
            return Refuse(new GatewayError(400, "invalid_request_error",
                "This endpoint takes multipart/form-data (a 'file' field with the audio and a 'model' field); the request's Content-Type is "
                + (string.IsNullOrEmpty(request.ContentType) ? "missing" : $"'{request.ContentType}'") + ".", "file"));
        }

        if (request.ContentLength > maxBytes)
        {
            return Refuse(GatewayError.BodyTooLarge(maxBytes));
        }

        // The server's own limit (1 MB before a route raises it) gives way to the gateway's; this reader enforces it.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } serverLimit)
        {
            serverLimit.MaxRequestBodySize = maxBytes;
        }

        var spool = new SpooledBody();
        var scanner = new MultipartScanner(boundary);
        // Room for one read plus what the scanner may hand back: a part's headers at most.
        var buffer = ArrayPool<byte>.Shared.Rent(ReadSize + MultipartScanner.MaxHeaderBytes + 256);
        var keep = true;
        try
        {
            // The virtual CRLF before the first boundary (see MultipartScanner); its two bytes sit at offset -2.
            buffer[0] = (byte)'\r';
            buffer[1] = (byte)'\n';
            var carried = 2;
            long windowStart = -2;
            long total = 0;
            while (true)
            {
                var read = await request.Body.ReadAsync(buffer.AsMemory(carried, ReadSize), cancellationToken);
                total += read;
                if (total > maxBytes)
                {
                    return Refuse(GatewayError.BodyTooLarge(maxBytes));
                }

                if (read > 0)
                {
                    await spool.WriteAsync(buffer.AsMemory(carried, read), cancellationToken);
                }

                var window = carried + read;
                var consumed = scanner.Process(buffer.AsSpan(0, window), windowStart, final: read == 0);
                if (scanner.Error is { } problem)
                {
                    return Refuse(new GatewayError(400, "invalid_request_error", $"The multipart/form-data body could not be read: {problem}."));
                }

                buffer.AsSpan(consumed, window - consumed).CopyTo(buffer);
                carried = window - consumed;
                windowStart += consumed;
                if (read == 0)
                {
                    break;
                }
            }

            var result = Validate(spool, scanner);
            keep = result.Body is not null;
            return result;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (!keep)
            {
                await spool.DisposeAsync();
            }
        }
    }

    private static MultipartReadResult Validate(SpooledBody spool, MultipartScanner scanner)
    {
        MultipartPart? model = null;
        MultipartPart? file = null;
        foreach (var part in scanner.Parts)
        {
            if (part.FileName is null && part.Name == "model")
            {
                model ??= part;
            }
            else if (part.Name == "file" && part.FileName is not null)
            {
                file ??= part;
            }
        }

        if (file is null)
        {
            return Refuse(new GatewayError(400, "invalid_request_error",
                "Missing required parameter 'file': send the audio as a multipart/form-data file field named 'file'.", "file"));
        }

        if (model is null || string.IsNullOrWhiteSpace(model.Value))
        {
            return Refuse(GatewayError.MissingModel());
        }

        var seconds = WavDuration.TryRead(scanner.FileHead, file.Length);
        return new MultipartReadResult(new MultipartBody(spool, scanner.Parts, model, file, seconds), null);
    }

    private static bool TryGetBoundary(string? contentType, out string boundary)
    {
        boundary = "";
        if (contentType is null || !MediaTypeHeaderValue.TryParse(contentType, out var media)
            || !media.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var value = HeaderUtilities.RemoveQuotes(media.Boundary);
        // RFC 2046: 1 to 70 characters.
        if (value.Length is 0 or > 70)
        {
            return false;
        }

        boundary = value.ToString();
        return true;
    }

    private static MultipartReadResult Refuse(GatewayError error) => new(null, error);
}
