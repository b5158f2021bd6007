using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Proxy.Transforms.Multipart;

/// <summary>
/// A request body kept for replay without holding it in memory: the first <see cref="MemoryBytes"/> in a pooled array,
/// the rest in a temporary file that is deleted when the body is disposed (or the process ends). Reads are positional
/// (<see cref="RandomAccess"/>), so every retry reads its own copy from the start with no shared file position.
/// </summary>
public sealed class SpooledBody : IAsyncDisposable
{
    /// <summary>What stays in memory; beyond it the body goes to disk. Small: audio uploads are megabytes.</summary>
    public const int MemoryBytes = 64 * 1024;

    private readonly string _directory;
    private byte[]? _memory = ArrayPool<byte>.Shared.Rent(MemoryBytes);
    private int _memoryLength;
    private SafeFileHandle? _file;
    private long _fileLength;

    /// <param name="directory">Where the spill file goes (the system temp folder unless given).</param>
    public SpooledBody(string? directory = null) => _directory = directory ?? Path.GetTempPath();

    public long Length => _memoryLength + _fileLength;

    /// <summary>True once the body has grown past <see cref="MemoryBytes"/> and part of it lives in a file.</summary>
    public bool SpilledToDisk => _file is not null;

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_memory is null, this);
        var room = MemoryBytes - _memoryLength;
        if (_file is null && room > 0)
        {
            var first = Math.Min(room, data.Length);
            data.Span[..first].CopyTo(_memory.AsSpan(_memoryLength));
            _memoryLength += first;
            data = data[first..];
        }

        if (data.IsEmpty)
        {
            return;
        }

        _file ??= OpenSpill();
        await RandomAccess.WriteAsync(_file, data, _fileLength, cancellationToken);
        _fileLength += data.Length;
    }

    /// <summary>Reads up to <paramref name="buffer"/>.Length bytes at <paramref name="offset"/>; 0 at the end.</summary>
    public async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_memory is null, this);
        if (offset >= Length || buffer.IsEmpty)
        {
            return 0;
        }

        if (offset < _memoryLength)
        {
            var count = (int)Math.Min(buffer.Length, _memoryLength - offset);
            _memory.AsSpan((int)offset, count).CopyTo(buffer.Span);
            return count;
        }

        var want = (int)Math.Min(buffer.Length, Length - offset);
        return await RandomAccess.ReadAsync(_file!, buffer[..want], offset - _memoryLength, cancellationToken);
    }

    /// <summary>Copies <paramref name="count"/> bytes at <paramref name="offset"/> into <paramref name="destination"/> (small ranges: form fields).</summary>
    public async ValueTask<int> CopyToAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var done = 0;
        while (done < destination.Length)
        {
            var read = await ReadAsync(offset + done, destination[done..], cancellationToken);
            if (read == 0)
            {
                break;
            }

            done += read;
        }

        return done;
    }

    public ValueTask DisposeAsync()
    {
        if (_memory is { } memory)
        {
            _memory = null;
            ArrayPool<byte>.Shared.Return(memory);
        }

        // DeleteOnClose removes the file with the handle; nothing else refers to it by name.
        _file?.Dispose();
        _file = null;
        return ValueTask.CompletedTask;
    }

    private SafeFileHandle OpenSpill()
    {
        var path = Path.Combine(_directory, "gw-body-" + Guid.NewGuid().ToString("N") + ".tmp");
        return File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
    }
}
