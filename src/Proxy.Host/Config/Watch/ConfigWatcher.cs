using System.Security.Cryptography;
using System.Threading.Channels;

namespace Proxy.Host.Config.Watch;

/// <summary>
/// Watches the config file's folder (editors that save by rename and Kubernetes' symlink swaps both show up there)
/// and polls as a fallback for file systems without change events. Only events about the config file itself count:
/// its name, a rename onto it, and the entries of the folder its symlink chain goes through (a ConfigMap's
/// <c>..data</c> swap); other files in the folder (the embedded key store's database, logs) are ignored, so a busy
/// neighbour cannot hold a reload back. A change is applied once its content differs, after the writes settle
/// (200 ms) but never later than 1 s after the first of them.
/// </summary>
internal sealed partial class ConfigWatcher(ConfigSource source, ConfigReloader reloader, TimeProvider time, ILogger<ConfigWatcher> logger) : BackgroundService
{
    // Editors write in several steps; wait for the burst to settle before reading, but not for ever.
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    // true: a change event about the config; false: the poll timer (read at once, no settling).
    private readonly Channel<bool> _signals = Channel.CreateBounded<bool>(new BoundedChannelOptions(4) { FullMode = BoundedChannelFullMode.DropWrite });
    private byte[]? _lastHash;
    private volatile string[] _relevantNames = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (source.Path is null)
        {
            return;
        }

        _lastHash = HashOf(source.Path);
        _relevantNames = RelevantNames(source.Path);
        using var watcher = CreateWatcher(source.Path);
        using var poll = new PeriodicTimer(PollInterval, time);
        var pollTask = PollAsync(poll, stoppingToken);
        try
        {
            while (await _signals.Reader.WaitToReadAsync(stoppingToken))
            {
                if (Drain())
                {
                    await SettleAsync(stoppingToken);
                }

                // A symlink swap can move the chain to new names; follow it before the next event.
                _relevantNames = RelevantNames(source.Path);
                var hash = HashOf(source.Path);
                if (hash is null || (_lastHash is not null && hash.AsSpan().SequenceEqual(_lastHash)))
                {
                    continue;
                }

                _lastHash = hash;
                reloader.Reload();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }

        await pollTask;
    }

    // Waits until no event has come for Debounce, or MaxDelay has passed since the burst began.
    private async Task SettleAsync(CancellationToken stoppingToken)
    {
        var began = time.GetTimestamp();
        while (true)
        {
            var left = MaxDelay - time.GetElapsedTime(began);
            if (left <= TimeSpan.Zero)
            {
                return;
            }

            await Task.Delay(left < Debounce ? left : Debounce, time, stoppingToken);
            if (!Drain())
            {
                return;
            }
        }
    }

    /// <returns>True when a change event (not only a poll tick) was waiting.</returns>
    private bool Drain()
    {
        var anyEvent = false;
        while (_signals.Reader.TryRead(out var isEvent))
        {
            anyEvent |= isEvent;
        }

        return anyEvent;
    }

    private async Task PollAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                _signals.Writer.TryWrite(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private FileSystemWatcher? CreateWatcher(string path)
    {
        try
        {
            var directory = Path.GetDirectoryName(path)!;
            var watcher = new FileSystemWatcher(directory)
            {
                IncludeSubdirectories = false,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            FileSystemEventHandler changed = (_, e) => OnEvent(e.Name, null);
            watcher.Changed += changed;
            watcher.Created += changed;
            watcher.Deleted += changed;
            watcher.Renamed += (_, e) => OnEvent(e.Name, e.OldName);
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            Log.WatchUnavailable(logger, path, ex.Message);
            return null;
        }
    }

    private void OnEvent(string? name, string? oldName)
    {
        if (IsRelevant(name, _relevantNames) || IsRelevant(oldName, _relevantNames))
        {
            _signals.Writer.TryWrite(true);
        }
    }

    internal static bool IsRelevant(string? name, string[] relevant)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        // Kubernetes' atomic writer swaps "..data" (a symlink to a "..<timestamp>" folder) by renaming "..data_tmp".
        if (name.StartsWith("..", StringComparison.Ordinal))
        {
            return true;
        }

        foreach (var candidate in relevant)
        {
            if (string.Equals(name, candidate, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The config's file name and, where it is a symlink into the same folder, the first entry of each link target.</summary>
    internal static string[] RelevantNames(string path)
    {
        var names = new List<string> { Path.GetFileName(path) };
        var directory = Path.GetFullPath(Path.GetDirectoryName(path)!);
        var current = path;
        for (var hop = 0; hop < 8; hop++)
        {
            string? target;
            try
            {
                target = new FileInfo(current).LinkTarget;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                break;
            }

            if (target is null)
            {
                break;
            }

            var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(current)!, target));
            var relative = Path.GetRelativePath(directory, resolved);
            var outside = relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal) || Path.IsPathRooted(relative);
            if (!outside)
            {
                var first = relative.Split(Path.DirectorySeparatorChar)[0];
                if (!names.Contains(first))
                {
                    names.Add(first);
                }
            }

            current = resolved;
        }

        return [.. names];
    }

    private static byte[]? HashOf(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            // An editor that truncates before writing leaves an empty file for a moment; serving no models from it
            // would refuse every request, so an empty file is treated as a save in progress.
            return bytes.Length == 0 ? null : SHA256.HashData(bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Mid-replace: the next signal or poll will see the finished file.
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1111, LogLevel.Warning, "Cannot watch {Path} for changes ({Reason}); polling every 5 s instead")]
        public static partial void WatchUnavailable(ILogger logger, string path, string reason);
    }
}
