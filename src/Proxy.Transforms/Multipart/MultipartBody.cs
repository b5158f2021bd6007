using System.Text;

namespace Proxy.Transforms.Multipart;

/// <summary>
/// A multipart/form-data request (an audio upload) read once into a <see cref="SpooledBody"/>, with where its form
/// fields are. Each attempt sends it again from the spool with only the <c>model</c> field's content replaced by the
/// deployment's model; every other byte, the file and the boundary included, goes as the client sent it.
/// </summary>
public sealed class MultipartBody : IAsyncDisposable
{
    private readonly MultipartPart _modelPart;

    internal MultipartBody(SpooledBody spool, IReadOnlyList<MultipartPart> parts, MultipartPart model, MultipartPart file, double? audioSeconds)
    {
        Spool = spool;
        Parts = parts;
        _modelPart = model;
        File = file;
        AudioSeconds = audioSeconds;
    }

    public SpooledBody Spool { get; }

    public IReadOnlyList<MultipartPart> Parts { get; }

    /// <summary>The client's <c>model</c> field.</summary>
    public string Model => _modelPart.Value ?? "";

    /// <summary>The uploaded file's part.</summary>
    public MultipartPart File { get; }

    /// <summary>The audio's length from its WAV header; null for other formats.</summary>
    public double? AudioSeconds { get; }

    /// <summary>The <c>stream</c> form field is true (vLLM streams transcriptions as SSE then).</summary>
    public bool Stream => FieldValue("stream") is { } value && value.Trim().Equals("true", StringComparison.OrdinalIgnoreCase);

    public string? FieldValue(string name)
    {
        foreach (var part in Parts)
        {
            if (part.FileName is null && string.Equals(part.Name, name, StringComparison.Ordinal))
            {
                return part.Value;
            }
        }

        return null;
    }

    /// <summary>The body for an upstream that calls the model <paramref name="upstreamModel"/>, read from the spool as it is sent.</summary>
    public Stream OpenFor(string upstreamModel, out long length)
    {
        var model = Encoding.UTF8.GetBytes(upstreamModel);
        length = Spool.Length - _modelPart.Length + model.Length;
        return new SplicedSpoolStream(Spool, _modelPart.Start, _modelPart.End, model);
    }

    public ValueTask DisposeAsync() => Spool.DisposeAsync();
}
