using System.Buffers.Binary;

namespace Proxy.IntegrationTests.Endpoints;

/// <summary>Generated 16 kHz, 16-bit mono PCM WAV files: a 44-byte header and a quiet tone.</summary>
public static class Wav
{
    public const int SampleRate = 16_000;
    public const int ByteRate = SampleRate * 2;

    public static byte[] Tone(double seconds)
    {
        var samples = (int)(seconds * SampleRate);
        var bytes = new byte[44 + (samples * 2)];
        WriteHeader(bytes, samples * 2);
        for (var i = 0; i < samples; i++)
        {
            var value = (short)(1000 * Math.Sin(2 * Math.PI * 440 * i / SampleRate));
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(44 + (i * 2)), value);
        }

        return bytes;
    }

    /// <summary>The canonical header for <paramref name="dataBytes"/> of samples.</summary>
    public static void WriteHeader(Span<byte> header, long dataBytes)
    {
        "RIFF"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)(36 + dataBytes));
        "WAVEfmt "u8.CopyTo(header[8..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(header[20..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(header[22..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], SampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], ByteRate);
        BinaryPrimitives.WriteUInt16LittleEndian(header[32..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[34..], 16);
        "data"u8.CopyTo(header[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[40..], (uint)dataBytes);
    }
}
