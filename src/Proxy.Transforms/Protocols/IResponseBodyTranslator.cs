using System.Buffers;

namespace Proxy.Transforms.Protocols;

/// <summary>
/// Converts one response body from one protocol to another while it is copied: a stream event by event as pieces
/// arrive (nothing is held beyond an incomplete event), a JSON body once it is complete. One per response; not
/// thread-safe.
/// </summary>
public interface IResponseBodyTranslator
{
    /// <summary>Takes the next piece of the source body and writes whatever it completes to <paramref name="output"/>.</summary>
    void Write(ReadOnlySpan<byte> piece, IBufferWriter<byte> output);

    /// <summary>The source body ended: writes what is left (a JSON body, the end of a stream, or an error event for a cut stream).</summary>
    void Complete(IBufferWriter<byte> output);
}
