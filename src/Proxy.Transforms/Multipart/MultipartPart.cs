namespace Proxy.Transforms.Multipart;

/// <summary>One form-data part: its name, its file name for uploads, where its content lies in the body, and the content itself for small text fields.</summary>
/// <param name="Start">Offset of the first content byte in the whole body.</param>
/// <param name="End">Offset just past the last content byte (before the CRLF of the next boundary).</param>
/// <param name="Value">The content as text for the fields the gateway reads (model, stream, response_format); null for others.</param>
public sealed record MultipartPart(string Name, string? FileName, long Start, long End, string? Value)
{
    public long Length => End - Start;
}
