using Microsoft.Extensions.Time.Testing;
using Proxy.Transforms.Caching;

namespace Proxy.Transforms.Tests.Caching;

public sealed class InMemoryResponseCacheStoreTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly CacheStats _stats = new();

    private static byte[] Entry(int size) => new byte[size];

    [Fact]
    public async Task Set_beyond_the_bound_evicts_the_least_recently_used()
    {
        using var store = new InMemoryResponseCacheStore(maxBytes: 3000, _time, _stats);
        store.Set("a", Entry(800), ttl: null);
        store.Set("b", Entry(800), ttl: null);
        store.Set("c", Entry(800), ttl: null);
        await store.GetAsync("a", CancellationToken.None);

        store.Set("d", Entry(800), ttl: null);

        Assert.NotNull(await store.GetAsync("a", CancellationToken.None));
        Assert.Null(await store.GetAsync("b", CancellationToken.None));
        Assert.NotNull(await store.GetAsync("d", CancellationToken.None));
        Assert.InRange(store.Bytes, 0, 3000);
        Assert.Equal(1, _stats.Evictions);
    }

    [Fact]
    public void Entry_larger_than_the_whole_bound_is_skipped()
    {
        using var store = new InMemoryResponseCacheStore(maxBytes: 1000, _time, _stats);

        store.Set("big", Entry(2000), ttl: null);

        Assert.Equal(0, store.Count);
        Assert.Equal(1, _stats.SkippedTooLarge);
    }

    [Fact]
    public async Task Entries_expire_after_their_ttl_or_the_local_default()
    {
        using var store = new InMemoryResponseCacheStore(maxBytes: 100_000, _time, _stats);
        store.Set("short", Entry(10), TimeSpan.FromSeconds(5));
        store.Set("default", Entry(10), ttl: null);

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Null(await store.GetAsync("short", CancellationToken.None));
        Assert.NotNull(await store.GetAsync("default", CancellationToken.None));

        _time.Advance(CacheOptions.LocalDefaultTtl);
        Assert.Null(await store.GetAsync("default", CancellationToken.None));
        Assert.Equal(0, store.Bytes);
    }

    [Fact]
    public void Expired_entries_nobody_asks_for_again_are_dropped_when_new_ones_are_stored()
    {
        // Distinct prompts (every miss its own key) must not fill the byte bound with dead entries.
        using var store = new InMemoryResponseCacheStore(maxBytes: 1_000_000, _time, _stats);
        for (var i = 0; i < 100; i++)
        {
            store.Set("old-" + i, Entry(1000), TimeSpan.FromSeconds(60));
        }

        _time.Advance(TimeSpan.FromSeconds(61));
        store.Set("new", Entry(1000), TimeSpan.FromSeconds(60));

        Assert.Equal(1, store.Count);
        Assert.InRange(store.Bytes, 1000, 2000);
        Assert.Equal(0, _stats.Evictions);
    }

    [Fact]
    public async Task Replacing_a_key_does_not_count_it_twice()
    {
        using var store = new InMemoryResponseCacheStore(maxBytes: 100_000, _time, _stats);
        store.Set("k", Entry(500), ttl: null);
        var once = store.Bytes;

        store.Set("k", Entry(500), ttl: null);

        Assert.Equal(once, store.Bytes);
        Assert.Equal(1, await store.DeleteAsync(["k", "missing"], CancellationToken.None));
        Assert.Equal(0, store.Bytes);
    }

    [Fact]
    public void Entry_round_trips_its_time_and_answer()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_732_700_000_123);
        var entry = CacheEntry.Create(at, """{"id":"x"}"""u8);

        Assert.True(CacheEntry.TryRead(entry, out var storedAt, out var response));
        Assert.Equal(at, storedAt);
        Assert.Equal("""{"id":"x"}""", System.Text.Encoding.UTF8.GetString(response.Span));
        Assert.StartsWith("{\"timestamp\":1732700000.123,\"response\":", System.Text.Encoding.UTF8.GetString(entry), StringComparison.Ordinal);
        Assert.False(CacheEntry.TryRead("""{"other":1}"""u8.ToArray(), out _, out _));
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    [InlineData("ns:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    [InlineData("router:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeX", false)]
    [InlineData("x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", false)]
    [InlineData("rpm:deployment-1", false)]
    public void Flushall_only_touches_keys_shaped_like_cache_keys(string key, bool expected)
    {
        Assert.Equal(expected, RedisResponseCacheStore.LooksLikeCacheKey(key));
    }
}
