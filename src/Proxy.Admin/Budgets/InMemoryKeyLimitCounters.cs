using Proxy.Admin.Keys;

namespace Proxy.Admin.Budgets;

/// <summary>
/// Fixed one-minute windows per key (or team, user, customer, key model), as LiteLLM's limiter counts them, under the key's own lock. The other replicas'
/// counts (<see cref="RedisKeyLimitCounters"/> fills them; zero for a single process) count against the limits too.
/// </summary>
internal class InMemoryKeyLimitCounters : IKeyLimitCounters
{
    public virtual LimitOutcome TryStart(IRateLimited key, DateTimeOffset now)
    {
        var settings = key;
        var minute = now.ToUnixTimeSeconds() / 60;
        var retryAfter = (int)(60 - (now.ToUnixTimeSeconds() % 60));
        var window = key.Window;
        lock (window.Gate)
        {
            Roll(window, minute);
            var others = window.OthersMinute == minute;
            var requests = window.Requests + (others ? window.OthersRequests : 0);
            var tokens = window.Tokens + (others ? window.OthersTokens : 0);
            if (settings.MaxParallelRequests is { } parallel && window.InFlight + window.OthersInFlight >= parallel)
            {
                // A slot frees when any request ends, which is usually well within a second.
                return new LimitOutcome(LimitKind.ParallelRequests, parallel, Remaining(settings.RpmLimit, requests), Remaining(settings.TpmLimit, tokens), 1);
            }

            if (settings.RpmLimit is { } rpm && requests >= rpm)
            {
                return new LimitOutcome(LimitKind.Requests, rpm, 0, Remaining(settings.TpmLimit, tokens), retryAfter);
            }

            // LiteLLM counts tokens of finished calls, so the call that crosses the limit is let through.
            if (settings.TpmLimit is { } tpm && tokens >= tpm)
            {
                return new LimitOutcome(LimitKind.Tokens, tpm, Remaining(settings.RpmLimit, requests), 0, retryAfter);
            }

            window.Requests++;
            window.InFlight++;
            return new LimitOutcome(LimitKind.None, 0, Remaining(settings.RpmLimit, requests + 1), Remaining(settings.TpmLimit, tokens), 0);
        }
    }

    public LimitOutcome Peek(IRateLimited key, DateTimeOffset now)
    {
        if (key.MaxParallelRequests is null && key.RpmLimit is null)
        {
            return default;
        }

        var minute = now.ToUnixTimeSeconds() / 60;
        var window = key.Window;
        lock (window.Gate)
        {
            var requests = (window.Minute == minute ? window.Requests : 0) + (window.OthersMinute == minute ? window.OthersRequests : 0);
            if (key.MaxParallelRequests is { } parallel && window.InFlight + window.OthersInFlight >= parallel)
            {
                return new LimitOutcome(LimitKind.ParallelRequests, parallel, Remaining(key.RpmLimit, requests), -1, 1);
            }

            if (key.RpmLimit is { } rpm && requests >= rpm)
            {
                return new LimitOutcome(LimitKind.Requests, rpm, 0, -1, (int)(60 - (now.ToUnixTimeSeconds() % 60)));
            }

            return default;
        }
    }

    public void Finish(IRateLimited key, DateTimeOffset now, long tokens)
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

    public void Cancel(IRateLimited key, DateTimeOffset now)
    {
        var minute = now.ToUnixTimeSeconds() / 60;
        var window = key.Window;
        lock (window.Gate)
        {
            window.InFlight--;
            if (window.Minute == minute && window.Requests > 0)
            {
                window.Requests--;
            }
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
