using System.Buffers;

namespace Proxy.Transforms.Body;

/// <summary>
/// For pass-through bodies, which go upstream as they came but for the model: replaces only the value of the
/// top-level <c>model</c>, keeping every other byte (LiteLLM-only members included) where it was.
/// </summary>
public static class ModelSplice
{
    /// <summary>True when the body already names <paramref name="model"/> (or names none), so it can go as is.</summary>
    public static bool IsIdentity(in RequestScan scan, string model) =>
        scan.ModelKind != ModelKind.String || string.Equals(scan.Model, model, StringComparison.Ordinal);

    /// <summary>The body with its model value replaced, in a pooled buffer the caller disposes.</summary>
    public static PooledBuffer Replace(ReadOnlySpan<byte> body, in RequestScan scan, string model)
    {
        var start = scan.ModelValueStart;
        var end = start + scan.ModelValueLength;
        var buffer = ArrayPool<byte>.Shared.Rent(body.Length - scan.ModelValueLength + JsonStringEscaper.MaxQuotedLength(model));
        body[..start].CopyTo(buffer);
        var written = start + JsonStringEscaper.WriteQuoted(model, buffer.AsSpan(start));
        body[end..].CopyTo(buffer.AsSpan(written));
        return new PooledBuffer(buffer, written + body.Length - end);
    }
}
