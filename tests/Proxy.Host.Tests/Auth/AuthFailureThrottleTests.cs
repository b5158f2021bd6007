using System.Net;
using Microsoft.Extensions.Time.Testing;
using Proxy.Host.Auth;

namespace Proxy.Host.Tests.Auth;

public sealed class AuthFailureThrottleTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Failures_up_to_the_limit_do_not_throttle_and_the_next_window_starts_over()
    {
        var throttle = new AuthFailureThrottle(_time);
        var address = IPAddress.Parse("203.0.113.7");
        for (var i = 0; i < AuthFailureThrottle.MaxFailuresPerWindow - 1; i++)
        {
            throttle.Failed(address);
        }

        Assert.Equal(0, throttle.RetryAfterSeconds(address));
        throttle.Failed(address);
        Assert.Equal(60, throttle.RetryAfterSeconds(address));

        _time.Advance(TimeSpan.FromSeconds(59.5));
        Assert.Equal(1, throttle.RetryAfterSeconds(address));
        _time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.Equal(0, throttle.RetryAfterSeconds(address));
        throttle.Failed(address);
        Assert.Equal(0, throttle.RetryAfterSeconds(address));
    }

    [Fact]
    public void A_throttled_address_gets_one_lookup_a_second()
    {
        var throttle = new AuthFailureThrottle(_time);
        var address = IPAddress.Parse("203.0.113.8");
        Assert.True(throttle.TryAdmitLookup(address));
        for (var i = 0; i < AuthFailureThrottle.MaxFailuresPerWindow; i++)
        {
            throttle.Failed(address);
        }

        Assert.True(throttle.TryAdmitLookup(address));
        Assert.False(throttle.TryAdmitLookup(address));
        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(throttle.TryAdmitLookup(address));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(throttle.TryAdmitLookup(address));
    }

    [Fact]
    public void IPv6_clients_are_counted_by_their_64_prefix_and_other_addresses_are_unaffected()
    {
        var throttle = new AuthFailureThrottle(_time);
        for (var i = 0; i < AuthFailureThrottle.MaxFailuresPerWindow; i++)
        {
            // Every failure from a different address of the same /64.
            throttle.Failed(IPAddress.Parse($"2001:db8:1:2::{i + 1:x}"));
        }

        Assert.True(throttle.RetryAfterSeconds(IPAddress.Parse("2001:db8:1:2:ffff::1")) > 0);
        Assert.Equal(0, throttle.RetryAfterSeconds(IPAddress.Parse("2001:db8:1:3::1")));
        Assert.Equal(0, throttle.RetryAfterSeconds(IPAddress.Parse("203.0.113.9")));
    }

    [Fact]
    public void IPv4_mapped_addresses_count_as_their_IPv4_address()
    {
        var throttle = new AuthFailureThrottle(_time);
        for (var i = 0; i < AuthFailureThrottle.MaxFailuresPerWindow; i++)
        {
            throttle.Failed(IPAddress.Parse("::ffff:198.51.100.4"));
        }

        Assert.True(throttle.RetryAfterSeconds(IPAddress.Parse("198.51.100.4")) > 0);
        Assert.Equal(0, throttle.RetryAfterSeconds(IPAddress.Parse("198.51.100.5")));
    }
}
