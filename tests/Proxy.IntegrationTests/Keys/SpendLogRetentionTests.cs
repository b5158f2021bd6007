using System.Net;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Keys;

/// <summary>general_settings.maximum_spend_logs_retention_period end to end, on the embedded store.</summary>
public sealed class SpendLogRetentionTests
{
    [Fact]
    public async Task Rows_older_than_the_retention_period_are_deleted_and_new_ones_are_kept()
    {
        await using var keys = await KeysGateway.StartAsync(
            extraGeneral: "  maximum_spend_logs_retention_period: 3s\n  maximum_spend_logs_retention_interval: 1s");
        var (key, _) = await keys.GenerateAsync();
        for (var i = 0; i < 5; i++)
        {
            using var response = await keys.ChatAsync(key);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.True(await Eventually.TrueAsync(async () => (await keys.SpendLogsAsync(key)).Length == 5, TimeSpan.FromSeconds(10)), "the rows were never written");
        Assert.True(await Eventually.TrueAsync(async () => (await keys.SpendLogsAsync(key)).Length == 0, TimeSpan.FromSeconds(30)), "old rows were not deleted");

        using var fresh = await keys.ChatAsync(key);
        Assert.True(await Eventually.TrueAsync(async () => (await keys.SpendLogsAsync(key)).Length == 1, TimeSpan.FromSeconds(2)), "the new row is missing");
        // Spend stays on the key: retention deletes log rows, not what was spent.
        Assert.True((await keys.KeyInfoAsync(key)).GetProperty("spend").GetDouble() > 0);
    }
}
