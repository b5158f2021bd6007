using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Proxy.LoadBalancing.Policies;
using Yarp.ReverseProxy.Model;

namespace Proxy.LoadBalancing.Affinity;

/// <summary>
/// LiteLLM's optional_pre_call_checks session_affinity and deployment_affinity: a request with a session id (or, for
/// deployment_affinity, from a virtual key) goes to the deployment its session (key) first used, while that deployment is
/// among the attempt's candidates and within its limits; otherwise the strategy picks as usual and the pin stays, so the
/// session comes home once its deployment is back. The pin is claimed by the first successful answer (first writer wins,
/// as LiteLLM's claim script) and lives until it has been idle for deployment_affinity_ttl_seconds.
/// </summary>
public sealed class SessionAffinity
{
    /// <summary>Pins kept at most; past this, expired ones are swept and then the oldest-looking ones dropped.</summary>
    internal const int MaxPins = 100_000;

    private readonly ConcurrentDictionary<PinKey, Pin> _pins = new();
    private readonly IRouterOptionsSource _options;
    private readonly TimeProvider _time;

    public SessionAffinity(IRouterOptionsSource options, TimeProvider time)
    {
        _options = options;
        _time = time;
    }

    internal int PinCount => _pins.Count;

    /// <summary>
    /// Narrows the attempt's candidates (the reverse proxy feature's AvailableDestinations) to the pinned deployment when
    /// there is one among them. Call after the candidates are set and before load balancing.
    /// </summary>
    /// <returns>True when the attempt was pinned.</returns>
    public bool TryApply(HttpContext context, GatewayRequestContext request)
    {
        // A new attempt: whatever explained the last one's pick does not explain this one's.
        request.Outcome.RoutingDecision = null;
        var affinity = _options.RouterOptions.Affinity;
        if (!IsOn(affinity) || request.Attempt.ModelGroup is not { } group)
        {
            return false;
        }

        var (session, key) = ChecksFor(affinity, group);
        var proxy = context.Features.Get<Yarp.ReverseProxy.Model.IReverseProxyFeature>();
        if (proxy is null || proxy.AvailableDestinations.Count == 0)
        {
            return false;
        }

        var now = _time.GetTimestamp();
        var caller = request.Caller.KeyHash;
        var destination = session && request.SessionId is { } sessionId ? Pinned(new PinKey(group, caller ?? "", sessionId), proxy.AvailableDestinations, now) : null;
        if (destination is null && key && caller is not null)
        {
            destination = Pinned(new PinKey(group, caller, null), proxy.AvailableDestinations, now);
        }

        // The candidates are the eligible ones (healthy, untried, within limits): a pin outside them waits.
        if (destination is null)
        {
            return false;
        }

        proxy.AvailableDestinations = destination;
        request.Outcome.RoutingDecision = "session";
        context.Response.Headers[PrefixCacheAwarePolicy.DecisionHeader] = "session";
        return true;
    }

    /// <summary>Claims (or refreshes) the pins of an answered request (see <see cref="SessionAffinityRecorder"/>).</summary>
    public void Remember(HttpContext context, GatewayRequestContext request)
    {
        var affinity = _options.RouterOptions.Affinity;
        var outcome = request.Outcome;
        if (!IsOn(affinity) || outcome.ModelGroup is not { } group || outcome.Deployment is not { } deployment
            || outcome.Failed || outcome.CacheHit || request.Attempt.Simulated || context.Response.StatusCode >= 400)
        {
            return;
        }

        var (session, key) = ChecksFor(affinity, group);
        var expires = _time.GetTimestamp() + (long)(affinity.Ttl.TotalSeconds * _time.TimestampFrequency);
        var caller = request.Caller.KeyHash;
        if (session && request.SessionId is { } sessionId)
        {
            Claim(new PinKey(group, caller ?? "", sessionId), deployment.Id, expires);
        }

        if (key && caller is { } keyHash)
        {
            Claim(new PinKey(group, keyHash, null), deployment.Id, expires);
        }
    }

    internal static (bool Session, bool Key) ChecksFor(AffinityOptions affinity, string modelGroup)
    {
        if (!affinity.PerGroup.TryGetValue(modelGroup, out var checks))
        {
            return (affinity.SessionAffinity, affinity.DeploymentAffinity);
        }

        // model_group_affinity_config replaces the global checks for the groups it lists.
        var session = false;
        var key = false;
        foreach (var check in checks)
        {
            session |= check == "session_affinity";
            key |= check == "deployment_affinity";
        }

        return (session, key);
    }

    private static bool IsOn(AffinityOptions affinity) => affinity.SessionAffinity || affinity.DeploymentAffinity || affinity.PerGroup.Count > 0;

    private DestinationState? Pinned(PinKey key, IReadOnlyList<DestinationState> candidates, long now)
    {
        if (!_pins.TryGetValue(key, out var pin))
        {
            return null;
        }

        if (pin.ExpiresAt <= now)
        {
            _pins.TryRemove(new KeyValuePair<PinKey, Pin>(key, pin));
            return null;
        }

        for (var i = 0; i < candidates.Count; i++)
        {
            if (string.Equals(candidates[i].DestinationId, pin.DeploymentId, StringComparison.Ordinal))
            {
                return candidates[i];
            }
        }

        return null;
    }

    private void Claim(PinKey key, string deploymentId, long expires)
    {
        var now = _time.GetTimestamp();
        if (_pins.TryGetValue(key, out var pin) && pin.ExpiresAt > now)
        {
            // First writer wins: a request served elsewhere while the pinned deployment was out does not move the pin.
            if (string.Equals(pin.DeploymentId, deploymentId, StringComparison.Ordinal))
            {
                pin.ExpiresAt = expires;
            }

            return;
        }

        _pins[key] = new Pin(deploymentId, expires);
        if (_pins.Count > MaxPins)
        {
            Sweep(now);
        }
    }

    private void Sweep(long now)
    {
        foreach (var (key, pin) in _pins)
        {
            if (pin.ExpiresAt <= now)
            {
                _pins.TryRemove(new KeyValuePair<PinKey, Pin>(key, pin));
            }
        }

        // Still full of live pins: drop a tenth, whichever the enumeration yields first; they re-pin on their next request.
        var excess = _pins.Count - (MaxPins - (MaxPins / 10));
        foreach (var (key, _) in _pins)
        {
            if (excess-- <= 0)
            {
                break;
            }

            _pins.TryRemove(key, out _);
        }
    }
}
