using System.Buffers.Binary;
using Proxy.Transforms.Multipart;

namespace Proxy.Transforms.Tests.Multipart;

public sealed class WavDurationTests
{
    private static byte[] Header(uint byteRate, uint dataBytes, bool listChunk = false)
    {
        var header = new List<byte>();
        header.AddRange("RIFF"u8.ToArray());
        header.AddRange(BitConverter.GetBytes(36u + dataBytes));
        header.AddRange("WAVEfmt "u8.ToArray());
        var fmt = new byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(fmt, 16);
        BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(6), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(fmt.AsSpan(8), byteRate / 2);
        BinaryPrimitives.WriteUInt32LittleEndian(fmt.AsSpan(12), byteRate);
        header.AddRange(fmt);
        if (listChunk)
        {
            header.AddRange("LIST"u8.ToArray());
            header.AddRange(BitConverter.GetBytes(5u));
            header.AddRange(new byte[6]);
        }

        header.AddRange("data"u8.ToArray());
        header.AddRange(BitConverter.GetBytes(dataBytes));
        return [.. header];
    }

    [Fact]
    public void The_duration_is_the_data_size_over_the_byte_rate()
    {
        Assert.Equal(2.5, WavDuration.TryRead(Header(32_000, 80_000), 44 + 80_000));
    }

    [Fact]
    public void Chunks_before_the_data_are_skipped_with_their_padding()
    {
        var header = Header(32_000, 16_000, listChunk: true);

        Assert.Equal(0.5, WavDuration.TryRead(header, header.Length + 16_000));
    }

    [Fact]
    public void A_streamed_header_without_a_data_size_uses_the_file_length()
    {
        Assert.Equal(1.0, WavDuration.TryRead(Header(32_000, uint.MaxValue), 44 + 32_000));
    }

    [Fact]
    public void Anything_but_a_WAV_has_no_duration()
    {
        Assert.Null(WavDuration.TryRead("ID3\u0004 an mp3"u8.ToArray(), 1000));
        Assert.Null(WavDuration.TryRead([], 0));
    }
}
