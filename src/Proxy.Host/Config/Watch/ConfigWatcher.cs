using System.Security.Cryptography;
using System.Threading.Channels;

namespace Proxy.Host.Config.Watch;

/// <summary>
/// Watches the config file's folder (editors that save by rename and Kubernetes' symlink swaps both show up there)
/// and polls as a fallback for file systems without change events. A change is applied once its content differs.
/// </summary>
internal sealed partial class ConfigWatcher(ConfigSource source, ConfigReloader reloader, TimeProvider time, ILogger<ConfigWatcher> logger) : BackgroundService
{
    // Editors write in several steps; wait for the burst to settle before reading.
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    private readonly Channel<bool> _signals = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private byte[]? _lastHash;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (source.Path is null)
        {
            return;
        }

        _lastHash = HashOf(source.Path);
        using var watcher = CreateWatcher(source.Path);
        using var poll = new PeriodicTimer(PollInterval, time);
        var pollTask = PollAsync(poll, stoppingToken);
        try
        {
            while (await _signals.Reader.WaitToReadAsync(stoppingToken))
            {
                while (_signals.Reader.TryRead(out _))
                {
                }

                await Task.Delay(Debounce, time, stoppingToken);
                if (_signals.Reader.TryPeek(out _))
                {
                    // Still being written: wait for the burst to settle, and never lose its last event.
                    continue;
                }

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

    private async Task PollAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                _signals.Writer.TryWrite(true);
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
            FileSystemEventHandler changed = (_, _) => _signals.Writer.TryWrite(true);
            watcher.Changed += changed;
            watcher.Created += changed;
            watcher.Deleted += changed;
            watcher.Renamed += (_, _) => _signals.Writer.TryWrite(true);
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            Log.WatchUnavailable(logger, path, ex.Message);
            return null;
        }
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
