using System.Collections.Concurrent;

namespace Proxy.Admin.Spend;

/// <summary>
/// Runs its tasks (and the continuations of awaits inside them) on one background thread of its own. The spend writer
/// uses it because SQLite does its work synchronously inside the "async" calls: a batch of thousands of rows on a
/// thread-pool thread stalls request processing on a small machine (one core means one pool thread at first), which
/// showed as a one-second p99 in the shared bench.
/// </summary>
internal sealed class DedicatedThreadScheduler : TaskScheduler, IDisposable
{
    private readonly BlockingCollection<Task> _tasks = [];
    private readonly Thread _thread;
    private int _disposed;

    public DedicatedThreadScheduler(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public override int MaximumConcurrencyLevel => 1;

    public void Dispose()
    {
        // Disposed by the container once per registration it was resolved through: only the first call counts.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _tasks.CompleteAdding();
        if (_thread.Join(TimeSpan.FromSeconds(5)))
        {
            _tasks.Dispose();
        }
    }

    protected override void QueueTask(Task task) => _tasks.Add(task);

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        Thread.CurrentThread == _thread && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => [.. _tasks];

    private void Run()
    {
        try
        {
            foreach (var task in _tasks.GetConsumingEnumerable())
            {
                TryExecuteTask(task);
            }
        }
        catch (ObjectDisposedException)
        {
            // Disposed while waiting: the gateway is shutting down.
        }
    }
}
