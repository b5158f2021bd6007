using System.Buffers;
using System.Text.Json;

namespace Proxy.Host.Observability;

/// <summary>
/// Writes access-log lines to standard output in batches from a thread of its own. The console logger makes one write
/// per message, which at thousands of requests a second cost a sixth of the gateway's CPU in the shared bench; here
/// the request thread only formats its line into a buffer, and lines written while the previous batch was going out
/// leave together. Each write is at most 4 KiB and ends at a line end, so a pipe never splits a line between writers.
/// If output stalls, lines beyond <see cref="MaxBufferedBytes"/> are dropped and counted rather than slowing requests.
/// </summary>
internal sealed class AccessLogWriter : IDisposable
{
    private const int MaxBufferedBytes = 4 * 1024 * 1024;
    private const int MaxWriteBytes = 4096;

    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Stream _output;
    private readonly Thread _thread;
    private ArrayBufferWriter<byte> _pending = new(64 * 1024);
    private ArrayBufferWriter<byte> _writing = new(64 * 1024);
    private volatile bool _stopping;
    private long _dropped;

    public AccessLogWriter()
        : this(Console.OpenStandardOutput())
    {
    }

    internal AccessLogWriter(Stream output)
    {
        _output = output;
        _thread = new Thread(Run) { IsBackground = true, Name = "access-log" };
        _thread.Start();
    }

    /// <summary>Lines dropped because output could not keep up.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Queues one formatted line (it must end with '\n').</summary>
    public void Append(ReadOnlySpan<byte> line)
    {
        bool wasEmpty;
        lock (_gate)
        {
            if (_pending.WrittenCount + line.Length > MaxBufferedBytes)
            {
                _dropped++;
                return;
            }

            wasEmpty = _pending.WrittenCount == 0;
            line.CopyTo(_pending.GetSpan(line.Length));
            _pending.Advance(line.Length);
        }

        if (wasEmpty)
        {
            _signal.Release();
        }
    }

    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        _signal.Release();
        if (_thread.Join(TimeSpan.FromSeconds(5)))
        {
            _signal.Dispose();
        }
    }

    private void Run()
    {
        while (true)
        {
            _signal.Wait();
            lock (_gate)
            {
                (_pending, _writing) = (_writing, _pending);
            }

            WriteOut(_writing.WrittenSpan);
            _writing.ResetWrittenCount();
            if (_stopping)
            {
                lock (_gate)
                {
                    WriteOut(_pending.WrittenSpan);
                    _pending.ResetWrittenCount();
                }

                return;
            }
        }
    }

    private void WriteOut(ReadOnlySpan<byte> data)
    {
        try
        {
            while (data.Length > 0)
            {
                var length = data.Length;
                if (length > MaxWriteBytes)
                {
                    var end = data[..MaxWriteBytes].LastIndexOf((byte)'\n');
                    length = end >= 0 ? end + 1 : MaxWriteBytes;
                }

                _output.Write(data[..length]);
                data = data[length..];
            }

            _output.Flush();
        }
        catch (IOException)
        {
            // Standard output closed (the process is being torn down): nothing to do about it.
        }
    }
}
