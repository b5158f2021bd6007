using Proxy.Admin.Keys;
using Proxy.Admin.Storage;

namespace Proxy.IntegrationTests.Keys;

/// <summary>A cached key's live spend against what the store says (other replicas' spend included).</summary>
public sealed class KeyEntryTests
{
    private static KeyEntry Entry(double spend = 0, string? budgetDuration = null, long? resetAt = null) =>
        new(KeySettings.From(new KeyRow { Token = "tok", Spend = spend, BudgetDuration = budgetDuration, BudgetResetAt = resetAt }));

    [Fact]
    public void A_commit_adopts_the_stored_total_plus_what_was_spent_here_since_the_batch_was_taken()
    {
        var entry = Entry();
        entry.AddSpend(1);
        var update = entry.TakePending();
        Assert.Equal(1, update!.Delta);
        entry.AddSpend(0.5);

        // The store had 3.5 from another replica before this batch added 1.
        entry.Committed(4.5, null);

        Assert.Equal(5, entry.Spend);
        Assert.Equal(0.5, entry.TakePending()!.Delta);
    }

    [Fact]
    public void A_store_read_is_applied_only_when_no_write_of_the_key_happened_meanwhile()
    {
        var entry = Entry(spend: 2);
        var version = entry.SpendVersion;
        entry.AddSpend(1);

        Assert.True(entry.SyncFromStore(10, null, version));
        Assert.Equal(11, entry.Spend);

        // A batch taken after the read: the read is stale, whatever it says.
        var staleVersion = entry.SpendVersion;
        entry.TakePending();
        Assert.False(entry.SyncFromStore(0, null, staleVersion));
        Assert.Equal(11, entry.Spend);

        // While the batch is being written, nothing is applied either; after the commit, reads apply again.
        Assert.False(entry.SyncFromStore(0, null, entry.SpendVersion));
        entry.Committed(12, null);
        Assert.Equal(12, entry.Spend);
        Assert.True(entry.SyncFromStore(20, null, entry.SpendVersion));
        Assert.Equal(20, entry.Spend);
    }

    [Fact]
    public void Budget_windows_stay_on_the_grid_of_the_stored_reset_time_and_a_later_stored_window_is_adopted()
    {
        var entry = Entry(spend: 5, budgetDuration: "10s", resetAt: 100_000);

        // Idle for several windows: one reset, to the end of the window containing now (not now + 10 s).
        Assert.True(entry.ResetBudgetIfDue(135_000));
        Assert.Equal(140_000, entry.BudgetResetAtMs);
        Assert.Equal(0, entry.Spend);
        var update = entry.TakePending();
        Assert.True(update!.Reset);
        Assert.Equal(140_000, update.BudgetResetAt);
        entry.Committed(0, 140_000);

        // Another replica moved the stored key into the next window already: adopt it, no second reset here.
        Assert.True(entry.SyncFromStore(3, 150_000, entry.SpendVersion));
        Assert.Equal(150_000, entry.BudgetResetAtMs);
        Assert.False(entry.ResetBudgetIfDue(145_000));
        Assert.Equal(3, entry.Spend);
    }
}
