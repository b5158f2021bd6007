using System.Buffers.Binary;

namespace Proxy.Transforms.Multipart;

/// <summary>The length of a RIFF/WAVE recording from its header: data bytes over the format's byte rate.</summary>
public static class WavDuration
{
    /// <param name="head">The file's first bytes.</param>
    /// <param name="fileLength">The whole file's length, for a header that does not give the data size (streamed WAVs).</param>
    public static double? TryRead(ReadOnlySpan<byte> head, long fileLength)
    {
        if (head.Length < 12 || !head[..4].SequenceEqual("RIFF"u8) || !head.Slice(8, 4).SequenceEqual("WAVE"u8))
        {
            return null;
        }

        uint byteRate = 0;
        var offset = 12;
        while (offset + 8 <= head.Length)
        {
            var id = head.Slice(offset, 4);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(head.Slice(offset + 4, 4));
            var body = offset + 8;
            if (id.SequenceEqual("fmt "u8) && body + 12 <= head.Length)
            {
                byteRate = BinaryPrimitives.ReadUInt32LittleEndian(head.Slice(body + 8, 4));
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (byteRate == 0)
                {
                    return null;
                }

                // 0 and 0xFFFFFFFF mean "unknown" in recordings written as a stream: the data runs to the end of the file.
                var dataBytes = size is 0 or uint.MaxValue || body + (long)size > fileLength ? fileLength - body : size;
                return Math.Max(0, dataBytes) / (double)byteRate;
            }

            // Chunks are padded to an even size.
            offset = body + (int)Math.Min(size + (size & 1), int.MaxValue - body);
        }

        return null;
    }
}
