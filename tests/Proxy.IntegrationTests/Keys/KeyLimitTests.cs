using System.Net;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Keys;

/// <summary>Budgets and rate limits (in-process counters; the embedded store).</summary>
public sealed class KeyLimitTests : IAsyncLifetime
{
    private KeysGateway _keys = null!;

    public async Task InitializeAsync() => _keys = await KeysGateway.StartAsync();

    public async Task DisposeAsync() => await _keys.DisposeAsync();

    [Fact]
    public async Task Exhausted_budget_answers_400_budget_exceeded_until_budget_duration_resets_it()
    {
        var (key, _) = await _keys.GenerateAsync("""{"max_budget":0.5,"budget_duration":"2s"}""");
        using (var first = await _keys.ChatAsync(key))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("0", first.Headers.GetValues("x-litellm-key-spend").Single());
            Assert.Equal("0.5", first.Headers.GetValues("x-litellm-key-max-budget").Single());
        }

        using (var refused = await _keys.ChatAsync(key))
        {
            var message = await ErrorAssert.IsOpenAiErrorAsync(refused, 400);
            Assert.StartsWith("Budget has been exceeded! Current cost: ", message);
            Assert.Contains("Max budget: 0.5", message);
            Assert.Contains("\"type\":\"budget_exceeded\"", await refused.Content.ReadAsStringAsync());
        }

        // The window is 2 s: a later call finds the spend reset and goes through.
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            using var response = await _keys.ChatAsync(key);
            return response.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(10)), "budget_duration should reset the spend");
    }

    [Fact]
    public async Task Rpm_limit_answers_429_with_retry_after_and_remaining_headers()
    {
        await AwayFromMinuteEnd();
        var (key, _) = await _keys.GenerateAsync("""{"rpm_limit":2}""");

        using (var first = await _keys.ChatAsync(key))
        {
            Assert.Equal("1", first.Headers.GetValues("x-ratelimit-remaining-requests").Single());
            Assert.Equal("2", first.Headers.GetValues("x-ratelimit-limit-requests").Single());
        }

        using (var second = await _keys.ChatAsync(key))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
            Assert.Equal("0", second.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        }

        using var third = await _keys.ChatAsync(key);
        var message = await ErrorAssert.IsOpenAiErrorAsync(third, 429);
        Assert.Contains("Limit type: requests", message);
        var retryAfter = int.Parse(third.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 60);
    }

    [Fact]
    public async Task Tpm_limit_refuses_the_call_after_the_one_that_used_the_tokens()
    {
        await AwayFromMinuteEnd();
        var (key, _) = await _keys.GenerateAsync("""{"tpm_limit":10}""");

        using (var first = await _keys.ChatAsync(key, extra: ""","fake_tokens":20,"max_tokens":20"""))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("10", first.Headers.GetValues("x-ratelimit-remaining-tokens").Single());
        }

        using var second = await _keys.ChatAsync(key);
        Assert.Contains("Limit type: tokens", await ErrorAssert.IsOpenAiErrorAsync(second, 429));
        Assert.True(second.Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task Max_parallel_requests_refuses_a_second_call_while_the_first_runs()
    {
        var (key, _) = await _keys.GenerateAsync("""{"max_parallel_requests":1}""");
        var before = _keys.Upstream.Requests.Count;
        var slow = _keys.ChatAsync(key, extra: ""","fake_latency_ms":1500""");
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(_keys.Upstream.Requests.Count > before), TimeSpan.FromSeconds(10)));

        using (var second = await _keys.ChatAsync(key))
        {
            Assert.Contains("Limit type: max_parallel_requests", await ErrorAssert.IsOpenAiErrorAsync(second, 429));
        }

        using (var first = await slow)
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using var third = await _keys.ChatAsync(key);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
    }

    // The windows are calendar minutes, as LiteLLM's: a test must not straddle a minute boundary.
    private static async Task AwayFromMinuteEnd()
    {
        var second = DateTime.UtcNow.Second;
        if (second >= 55)
        {
            await Task.Delay(TimeSpan.FromSeconds(61 - second));
        }
    }
}
