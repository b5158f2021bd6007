using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Proxy.Transforms.Caching.Semantic.Index;

namespace Proxy.Transforms.Tests.Caching.Semantic;

public sealed class SemanticIndexTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
    private readonly SemanticIndex _index;
    private readonly float[][] _vectors = TestVectors.Unit(8, 16, seed: 11);

    public SemanticIndexTests()
    {
        _index = new SemanticIndex(_time, NullLogger.Instance);
    }

    public void Dispose() => _index.Dispose();

    [Fact]
    public async Task Searches_see_only_their_own_scope()
    {
        _index.Upsert(Entry("a", "scope-1", 0));
        _index.Upsert(Entry("b", "scope-2", 1));
        await _index.WhenAppliedAsync(CancellationToken.None);

        Assert.Equal("a", _index.Search("scope-1", _vectors[1])!.Value.EntryId);
        Assert.Equal("b", _index.Search("scope-2", _vectors[1])!.Value.EntryId);
        Assert.Equal(1f, _index.Search("scope-2", _vectors[1])!.Value.Similarity, 4);
        Assert.Null(_index.Search("scope-3", _vectors[1]));
    }

    [Fact]
    public async Task Vectors_are_normalised_so_the_similarity_is_the_cosine()
    {
        _index.Upsert(new IndexedEntry("a", "s", [.. _vectors[0].Select(v => v * 7)], long.MaxValue));
        await _index.WhenAppliedAsync(CancellationToken.None);

        Assert.Equal(1f, _index.Search("s", _vectors[0])!.Value.Similarity, 4);
    }

    [Fact]
    public async Task Entries_expire_with_the_clock_and_the_sweep_drops_them()
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        _index.Upsert(Entry("short", "s", 0, now + 1000));
        _index.Upsert(Entry("long", "s", 1, now + 60_000));
        await _index.WhenAppliedAsync(CancellationToken.None);
        Assert.True(_index.Contains("short"));

        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.False(_index.Contains("short"));
        Assert.Equal("long", _index.Search("s", _vectors[0])!.Value.EntryId);
        _index.Sweep();
        await _index.WhenAppliedAsync(CancellationToken.None);
        Assert.Equal(1, _index.Count);
    }

    [Fact]
    public async Task A_repeated_entry_moves_its_expiry_instead_of_adding_a_row()
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        _index.Upsert(Entry("a", "s", 0, now + 1000));
        _index.Upsert(Entry("a", "s", 0, now + 60_000));
        await _index.WhenAppliedAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.True(_index.Contains("a"));
        Assert.Equal(1, _index.Count);
    }

    [Fact]
    public async Task Removed_entries_are_not_found()
    {
        _index.Upsert(Entry("a", "s", 0));
        _index.Upsert(Entry("b", "s", 1));
        _index.Remove("a");
        await _index.WhenAppliedAsync(CancellationToken.None);

        Assert.False(_index.Contains("a"));
        Assert.Equal("b", _index.Search("s", _vectors[0])!.Value.EntryId);
    }

    [Fact]
    public async Task A_rebuild_replaces_everything_and_later_changes_apply_after_it()
    {
        _index.Upsert(Entry("old", "s", 0));
        await _index.WhenAppliedAsync(CancellationToken.None);

        var rebuild = _index.RebuildAsync(_ => Source(Entry("x", "s", 2), Entry("y", "t", 3)), CancellationToken.None);
        _index.Upsert(Entry("after", "s", 4));
        await rebuild;
        await _index.WhenAppliedAsync(CancellationToken.None);

        Assert.False(_index.Contains("old"));
        Assert.True(_index.Contains("x"));
        Assert.True(_index.Contains("y"));
        Assert.True(_index.Contains("after"));
        Assert.Equal(3, _index.Count);
    }

    [Fact]
    public async Task A_failed_rebuild_keeps_the_index()
    {
        _index.Upsert(Entry("kept", "s", 0));
        await _index.WhenAppliedAsync(CancellationToken.None);

        await Assert.ThrowsAsync<InvalidOperationException>(() => _index.RebuildAsync(_ => Failing(), CancellationToken.None));

        Assert.True(_index.Contains("kept"));
    }

    [Fact]
    public async Task Vectors_of_another_size_replace_the_scope()
    {
        _index.Upsert(Entry("a", "s", 0));
        _index.Upsert(new IndexedEntry("b", "s", TestVectors.Unit(1, 32, seed: 3)[0], long.MaxValue));
        await _index.WhenAppliedAsync(CancellationToken.None);

        Assert.False(_index.Contains("a"));
        Assert.True(_index.Contains("b"));
    }

    private IndexedEntry Entry(string id, string scope, int vector, long expiresAt = long.MaxValue) => new(id, scope, _vectors[vector], expiresAt);

#pragma warning disable CS1998 // An async iterator without awaits is the simplest IAsyncEnumerable of fixed items.
    private static async IAsyncEnumerable<IndexedEntry> Source(params IndexedEntry[] entries)
    {
        foreach (var entry in entries)
        {
            yield return entry;
        }
    }

    private async IAsyncEnumerable<IndexedEntry> Failing()
    {
        yield return Entry("half", "s", 1);
        throw new InvalidOperationException("connection lost mid-scan");
    }
#pragma warning restore CS1998
}
