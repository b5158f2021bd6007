using System.Collections.Concurrent;
using System.Threading.Channels;
using Proxy.Admin.Keys;
using Proxy.Admin.Storage;

namespace Proxy.Admin.Spend;

/// <summary>
/// Spend waiting to be written: spend-log rows in a bounded channel and the keys whose spend changed. Requests only
/// enqueue (never wait); <see cref="SpendWriter"/> drains it in batches. When the channel is full (the database has
/// been away for long) new rows are dropped and counted, never blocking a request.
/// </summary>
internal sealed class SpendQueue : ISpendBufferStatus
{
    private readonly Channel<SpendLogRow> _rows;
    private readonly ConcurrentQueue<KeyEntry> _dirtyKeys = new();
    private readonly ConcurrentQueue<Tenants.TenantEntry> _dirtyTenants = new();
    private long _dropped;
    private int _retained;

    public SpendQueue(AdminOptions options)
    {
        Capacity = options.SpendBufferCapacity;
        _rows = Channel.CreateBounded<SpendLogRow>(new BoundedChannelOptions(Capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public int Capacity { get; }

    /// <summary>Rows not yet in the database: queued plus held by the writer for a retry.</summary>
    public int Depth => _rows.Reader.Count + Volatile.Read(ref _retained);

    public long Dropped => Interlocked.Read(ref _dropped);

    public bool IsFull => _rows.Reader.Count >= Capacity;

    public ChannelReader<SpendLogRow> Reader => _rows.Reader;

    /// <summary>False when the buffer is full and the row was dropped.</summary>
    public bool TryEnqueue(SpendLogRow row)
    {
        if (_rows.Writer.TryWrite(row))
        {
            return true;
        }

        Interlocked.Increment(ref _dropped);
        return false;
    }

    public void MarkDirty(KeyEntry key) => _dirtyKeys.Enqueue(key);

    public bool TryTakeDirty(out KeyEntry key) => _dirtyKeys.TryDequeue(out key!);

    public void MarkDirty(Tenants.TenantEntry tenant) => _dirtyTenants.Enqueue(tenant);

    public bool TryTakeDirtyTenant(out Tenants.TenantEntry tenant) => _dirtyTenants.TryDequeue(out tenant!);

    public void SetRetained(int count) => Volatile.Write(ref _retained, count);

    public void Complete() => _rows.Writer.TryComplete();
}
