using Proxy.Admin.Keys;

namespace Proxy.Admin.Budgets;

/// <summary>Fixed one-minute windows per key, as LiteLLM's limiter counts them, under the key's own lock.</summary>
internal sealed class InMemoryKeyLimitCounters : IKeyLimitCounters
{
    public LimitOutcome TryStart(KeyEntry key, DateTimeOffset now)
    {
        var settings = key.Settings;
        var minute = now.ToUnixTimeSeconds() / 60;
        var retryAfter = (int)(60 - (now.ToUnixTimeSeconds() % 60));
        var window = key.Window;
        lock (window.Gate)
        {
            Roll(window, minute);
            if (settings.MaxParallelRequests is { } parallel && window.InFlight >= parallel)
            {
                // A slot frees when any request ends, which is usually well within a second.
                return new LimitOutcome(LimitKind.ParallelRequests, parallel, Remaining(settings.RpmLimit, window.Requests), Remaining(settings.TpmLimit, window.Tokens), 1);
            }

            if (settings.RpmLimit is { } rpm && window.Requests >= rpm)
            {
                return new LimitOutcome(LimitKind.Requests, rpm, 0, Remaining(settings.TpmLimit, window.Tokens), retryAfter);
            }

            // LiteLLM counts tokens of finished calls, so the call that crosses the limit is let through.
            if (settings.TpmLimit is { } tpm && window.Tokens >= tpm)
            {
                return new LimitOutcome(LimitKind.Tokens, tpm, Remaining(settings.RpmLimit, window.Requests), 0, retryAfter);
            }

            window.Requests++;
            window.InFlight++;
            return new LimitOutcome(LimitKind.None, 0, Remaining(settings.RpmLimit, window.Requests), Remaining(settings.TpmLimit, window.Tokens), 0);
        }
    }

    public void Finish(KeyEntry key, DateTimeOffset now, long tokens)
    {
        var minute = now.ToUnixTimeSeconds() / 60;
        var window = key.Window;
        lock (window.Gate)
        {
            window.InFlight--;
            Roll(window, minute);
            window.Tokens += tokens;
        }
    }

    private static void Roll(KeyWindow window, long minute)
    {
        if (window.Minute != minute)
        {
            window.Minute = minute;
            window.Requests = 0;
            window.Tokens = 0;
        }
    }

    private static long Remaining(long? limit, long used) => limit is { } l ? Math.Max(0, l - used) : -1;
}
