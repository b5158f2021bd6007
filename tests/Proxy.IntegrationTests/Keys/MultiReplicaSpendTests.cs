using System.Globalization;
using System.Net;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Keys;

/// <summary>Two gateways on one PostgreSQL database, as replicas behind a load balancer: spend is shared through the store.</summary>
[Collection(PostgresCollection.Name)]
public sealed class MultiReplicaSpendTests
{
    // Write spend every 0.1 s and re-read cached keys every 0.2 s, so that the test does not wait for the defaults.
    private const string Fast = "  user_api_key_cache_ttl: 0.2";

    [Fact]
    public async Task A_budget_spent_through_one_replica_is_enforced_by_the_other()
    {
        var database = (await PostgresDatabase.CreateAsync()).ConnectionString;
        await using var a = await KeysGateway.StartAsync(database, Fast);
        await using var b = await KeysGateway.StartAsync(database, Fast);
        var (key, token) = await a.GenerateAsync("""{"max_budget":1000000}""");

        // B caches the key (and its spend) with one request; that request's cost sets the budget: 3.5 requests' worth.
        double cost;
        using (var first = await b.ChatAsync(key))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            cost = double.Parse(first.Headers.GetValues("x-litellm-response-cost").Single(), CultureInfo.InvariantCulture);
        }

        Assert.True(cost > 0);
        await a.AdminOkAsync(HttpMethod.Post, "/key/update", $$"""{"key":"{{token}}","max_budget":{{(cost * 3.5).ToString(CultureInfo.InvariantCulture)}}}""");

        // A spends the rest of the budget until it refuses.
        var admitted = 0;
        for (var i = 0; i < 10; i++)
        {
            using var response = await a.ChatAsync(key);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                Assert.Contains("budget_exceeded", await response.Content.ReadAsStringAsync());
                break;
            }

            admitted++;
            // Let A's view include B's first request before the last one, as it will within a batch interval.
            await Task.Delay(300);
        }

        Assert.InRange(admitted, 1, 3);
        // B has only seen its own request; the spend A wrote reaches it through the store.
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            using var response = await b.ChatAsync(key);
            return response.StatusCode == HttpStatusCode.BadRequest && (await response.Content.ReadAsStringAsync()).Contains("budget_exceeded");
        }, TimeSpan.FromSeconds(10)), "replica B should refuse once A has spent the budget");
    }

    [Fact]
    public async Task Spend_through_both_replicas_adds_up_exactly_in_the_store_and_in_each_replica()
    {
        var database = (await PostgresDatabase.CreateAsync()).ConnectionString;
        await using var a = await KeysGateway.StartAsync(database, Fast);
        await using var b = await KeysGateway.StartAsync(database, Fast);
        var (key, token) = await a.GenerateAsync();

        var costs = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            using var response = await (i % 2 == 0 ? a : b).ChatAsync(key);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return double.Parse(response.Headers.GetValues("x-litellm-response-cost").Single(), CultureInfo.InvariantCulture);
        }));
        var total = costs.Sum();

        // Prices are exact in binary, so the sums compare exactly.
        foreach (var replica in new[] { a, b })
        {
            Assert.True(await Eventually.TrueAsync(async () => (await replica.KeyInfoAsync(token)).GetProperty("spend").GetDouble() == total,
                TimeSpan.FromSeconds(10)), $"each replica should see the spend of both: want {total}, have {(await replica.KeyInfoAsync(token)).GetProperty("spend")}");
        }
    }
}
