using System.Collections.Concurrent;
using System.Numerics.Tensors;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Proxy.Transforms.Caching.Semantic.Index;

/// <summary>
/// This process's index of the semantic cache's vectors: one <see cref="ScopeIndex"/> per cache scope, so a search only
/// ever sees candidates of its own scope. Searches run on the caller's thread without locks; every change (a stored
/// answer, a removal, a rebuild from the backend, the expiry sweep) is a command for one writer loop, so the request
/// path never pays for graph maintenance.
/// </summary>
internal sealed partial class SemanticIndex : IDisposable
{
    private const int QueueCapacity = 65_536;
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(30);

    private readonly Channel<Command> _commands = Channel.CreateBounded<Command>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ITimer _sweep;
    private readonly Task _writer;
    private volatile State _state = new();
    private long _dropped;

    public SemanticIndex(TimeProvider time, ILogger logger)
    {
        _time = time;
        _logger = logger;
        _writer = RunAsync(_stopping.Token);
        _sweep = time.CreateTimer(_ => _commands.Writer.TryWrite(Command.Sweep), null, SweepInterval, SweepInterval);
    }

    /// <summary>Entries indexed (live, possibly expired but not yet swept).</summary>
    public int Count => _state.Ids.Count;

    /// <summary>Changes dropped because the writer fell behind by <see cref="QueueCapacity"/> commands (those entries just miss).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Bytes held by the vectors (for /cache/ping).</summary>
    public long VectorBytes
    {
        get
        {
            long bytes = 0;
            foreach (var scope in _state.Scopes.Values)
            {
                bytes += (long)scope.Count * scope.Dimensions * sizeof(float);
            }

            return bytes;
        }
    }

    /// <summary>The closest entry of <paramref name="scope"/> to the unit vector <paramref name="query"/>, whatever its similarity.</summary>
    public IndexMatch? Search(string scope, ReadOnlySpan<float> query)
    {
        if (!_state.Scopes.TryGetValue(scope, out var index))
        {
            return null;
        }

        var (row, similarity) = index.Search(query, _time.GetUtcNow().ToUnixTimeMilliseconds());
        return row < 0 ? null : new IndexMatch(index.Row(row).EntryId, similarity);
    }

    /// <summary>Whether the entry is indexed and unexpired (the exact-text shortcut, which needs no embedding).</summary>
    public bool Contains(string entryId) =>
        _state.Ids.TryGetValue(entryId, out var place) && place.Index.Row(place.Row) is { Dead: 0 } row
        && row.ExpiresAtMs > _time.GetUtcNow().ToUnixTimeMilliseconds();

    public void Upsert(IndexedEntry entry) => Post(new Command(CommandKind.Upsert, entry));

    public void Remove(string entryId) => Post(new Command(CommandKind.Remove, new IndexedEntry(entryId, "", [], 0)));

    public void Clear() => Post(new Command(CommandKind.Clear, default));

    /// <summary>Replaces the whole index with what <paramref name="source"/> yields (read on the writer loop; changes posted meanwhile apply after it).</summary>
    public Task RebuildAsync(Func<CancellationToken, IAsyncEnumerable<IndexedEntry>> source, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return WriteAndWaitAsync(new Command(CommandKind.Rebuild, default, source, done), done, cancellationToken);
    }

    /// <summary>Completes once every change posted before it has been applied.</summary>
    public Task WhenAppliedAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return WriteAndWaitAsync(new Command(CommandKind.Barrier, default, null, done), done, cancellationToken);
    }

    /// <summary>Runs the expiry sweep and compaction now (the timer does it every 30 s).</summary>
    public void Sweep() => Post(Command.Sweep);

    /// <summary>Stops the writer loop (it ends by itself; nothing waits for it).</summary>
    public void Dispose()
    {
        _sweep.Dispose();
        _commands.Writer.TryComplete();
        // The loop still observes the token after this returns, so the source is cancelled, not disposed.
        _stopping.Cancel();
    }

    /// <summary>Completes when the writer loop has ended (after <see cref="Dispose"/>).</summary>
    internal Task Completion => _writer;

    private void Post(Command command)
    {
        if (!_commands.Writer.TryWrite(command))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    private async Task WriteAndWaitAsync(Command command, TaskCompletionSource done, CancellationToken cancellationToken)
    {
        await _commands.Writer.WriteAsync(command, cancellationToken);
        await done.Task.WaitAsync(cancellationToken);
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            await foreach (var command in _commands.Reader.ReadAllAsync(stopping))
            {
                try
                {
                    await ApplyAsync(command, stopping);
                }
                catch (Exception ex) when (!stopping.IsCancellationRequested)
                {
                    // A failed rebuild (backend gone mid-scan) keeps the index as it was; the next (re)connect tries again.
                    Log.CommandFailed(_logger, command.Kind.ToString(), ex.Message);
                    command.Done?.TrySetException(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    private async Task ApplyAsync(Command command, CancellationToken stopping)
    {
        switch (command.Kind)
        {
            case CommandKind.Upsert:
                Upsert(_state, command.Entry);
                break;
            case CommandKind.Remove:
                Remove(_state, command.Entry.EntryId);
                break;
            case CommandKind.Clear:
                _state = new State();
                break;
            case CommandKind.Rebuild:
                var next = new State();
                await foreach (var entry in command.Source!(stopping).WithCancellation(stopping))
                {
                    Upsert(next, entry);
                }

                _state = next;
                Log.Rebuilt(_logger, next.Ids.Count, next.Scopes.Count);
                break;
            case CommandKind.Sweep:
                SweepExpired(_state);
                break;
            case CommandKind.Barrier:
                break;
        }

        command.Done?.TrySetResult();
    }

    private static void Upsert(State state, IndexedEntry entry)
    {
        if (entry.Vector.Length == 0)
        {
            return;
        }

        if (state.Ids.TryGetValue(entry.EntryId, out var existing))
        {
            // The same id is the same scope and text, so the same vector: only its expiry moves.
            if (existing.Index.Dimensions == entry.Vector.Length)
            {
                Volatile.Write(ref existing.Index.Row(existing.Row).ExpiresAtMs, entry.ExpiresAtMs);
                return;
            }

            Remove(state, entry.EntryId);
        }

        var index = state.Scopes.GetOrAdd(entry.Scope, static (_, dimensions) => new ScopeIndex(dimensions), entry.Vector.Length);
        if (index.Dimensions != entry.Vector.Length)
        {
            // The embedding model behind the group changed its size: the old vectors cannot be compared with new ones.
            DropScope(state, entry.Scope, index);
            index = state.Scopes.GetOrAdd(entry.Scope, static (_, dimensions) => new ScopeIndex(dimensions), entry.Vector.Length);
        }

        var vector = Normalized(entry.Vector);
        var row = index.Add(entry.EntryId, vector, entry.ExpiresAtMs);
        state.Ids[entry.EntryId] = new Place(index, row, entry.Scope);
    }

    private static void Remove(State state, string entryId)
    {
        if (state.Ids.TryRemove(entryId, out var place))
        {
            place.Index.Remove(place.Row);
        }
    }

    private static void DropScope(State state, string scope, ScopeIndex index)
    {
        state.Scopes.TryRemove(scope, out _);
        for (var row = 0; row < index.Count; row++)
        {
            var entryId = index.Row(row).EntryId;
            if (state.Ids.TryGetValue(entryId, out var place) && ReferenceEquals(place.Index, index))
            {
                state.Ids.TryRemove(entryId, out _);
            }
        }
    }

    private void SweepExpired(State state)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var (scope, index) in state.Scopes)
        {
            for (var row = 0; row < index.Count; row++)
            {
                var entry = index.Row(row);
                if (entry.Dead == 0 && entry.ExpiresAtMs <= now)
                {
                    Remove(state, entry.EntryId);
                }
            }

            if (index.LiveCount == 0)
            {
                state.Scopes.TryRemove(scope, out _);
            }
            else if (index.DeadCount > index.LiveCount && index.Count > 256)
            {
                Compact(state, scope, index);
            }
        }
    }

    // Mostly dead rows still cost every graph search a detour: re-insert the live ones into a fresh graph.
    private static void Compact(State state, string scope, ScopeIndex index)
    {
        var fresh = new ScopeIndex(index.Dimensions);
        var moved = new List<(string EntryId, int Row)>(index.LiveCount);
        for (var row = 0; row < index.Count; row++)
        {
            var entry = index.Row(row);
            if (entry.Dead == 0)
            {
                moved.Add((entry.EntryId, fresh.Add(entry.EntryId, index.Vector(row), entry.ExpiresAtMs)));
            }
        }

        state.Scopes[scope] = fresh;
        foreach (var (entryId, row) in moved)
        {
            state.Ids[entryId] = new Place(fresh, row, scope);
        }
    }

    internal static float[] Normalized(float[] vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        if (norm is 0 or float.NaN)
        {
            return vector;
        }

        var unit = new float[vector.Length];
        TensorPrimitives.Divide(vector, norm, unit);
        return unit;
    }

    private enum CommandKind
    {
        Upsert,
        Remove,
        Clear,
        Rebuild,
        Sweep,
        Barrier,
    }

    private sealed record Command(
        CommandKind Kind, IndexedEntry Entry, Func<CancellationToken, IAsyncEnumerable<IndexedEntry>>? Source = null, TaskCompletionSource? Done = null)
    {
        public static readonly Command Sweep = new(CommandKind.Sweep, default);
    }

    private sealed record Place(ScopeIndex Index, int Row, string Scope);

    private sealed class State
    {
        public ConcurrentDictionary<string, ScopeIndex> Scopes { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, Place> Ids { get; } = new(StringComparer.Ordinal);
    }

    private static partial class Log
    {
        [LoggerMessage(2331, LogLevel.Information, "Semantic cache index rebuilt: {Entries} entries in {Scopes} scopes")]
        public static partial void Rebuilt(ILogger logger, int entries, int scopes);

        [LoggerMessage(2332, LogLevel.Warning, "Semantic cache index: {Command} failed ({Reason}); the index keeps what it had")]
        public static partial void CommandFailed(ILogger logger, string command, string reason);
    }
}
