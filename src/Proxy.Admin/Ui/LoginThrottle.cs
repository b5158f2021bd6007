using System.Collections.Concurrent;

namespace Proxy.Admin.Ui;

/// <summary>
/// Failed logins per client address in a fixed window: after the limit, every attempt from that address (right or
/// wrong) gets a 429 until the window ends, which makes guessing the password slow without locking the admin out.
/// </summary>
internal sealed class LoginThrottle(UiOptions options, TimeProvider time)
{
    private const int MaxTracked = 10_000;

    private readonly ConcurrentDictionary<string, Window> _failures = new(StringComparer.Ordinal);

    /// <summary>Seconds to wait when the address is throttled, else 0.</summary>
    public int RetryAfterSeconds(string address)
    {
        if (!_failures.TryGetValue(address, out var window))
        {
            return 0;
        }

        var left = window.Ends - time.GetUtcNow();
        return window.Count >= options.MaxFailedLogins && left > TimeSpan.Zero ? (int)Math.Ceiling(left.TotalSeconds) : 0;
    }

    public void Failed(string address)
    {
        if (_failures.Count >= MaxTracked)
        {
            // A flood from many addresses: start over rather than grow without bound.
            _failures.Clear();
        }

        var now = time.GetUtcNow();
        _failures.AddOrUpdate(
            address,
            static (_, state) => new Window(state.now + state.window, 1),
            static (_, current, state) => current.Ends <= state.now ? new Window(state.now + state.window, 1) : current with { Count = current.Count + 1 },
            (now, window: options.FailedLoginWindow));
    }

    public void Succeeded(string address) => _failures.TryRemove(address, out _);

    private readonly record struct Window(DateTimeOffset Ends, int Count);
}
