using System.Text;
using Proxy.Transforms.Usage;

namespace Proxy.Transforms.Tests.Usage;

public sealed class UsageObserverTests
{
    private const string JsonBody = """
        {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"qwen3","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! The \"usage\": {\"prompt_tokens\": 1} here is text."},"finish_reason":"stop"}],"usage":{"prompt_tokens":17,"total_tokens":26,"completion_tokens":9,"prompt_tokens_details":{"cached_tokens":16}},"prompt_logprobs":null,"kv_transfer_params":null}
        """;

    private static readonly TokenUsage JsonUsage = new(17, 9, 16) { ReportsCachedTokens = true };

    private static string Chunk(string delta, string usage = "") =>
        "data: {\"id\":\"chatcmpl-2\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"qwen3\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
        + delta + "},\"logprobs\":null,\"finish_reason\":null}]" + usage + "}\n\n";

    private const string UsageChunk =
        "data: {\"id\":\"chatcmpl-2\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"qwen3\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"total_tokens\":17,\"completion_tokens\":5,\"prompt_tokens_details\":null}}\n\n";

    private const string Done = "data: [DONE]\n\n";

    private static string Stream(int tokens, string perChunkUsage = "", bool usageChunk = true)
    {
        var text = new StringBuilder();
        // The first event of an OpenAI stream carries the role and empty content; it is not text.
        text.Append("data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]" + perChunkUsage + "}\n\n");
        for (var i = 0; i < tokens; i++)
        {
            text.Append(Chunk("\"tok" + i + "\"", perChunkUsage));
        }

        if (usageChunk)
        {
            text.Append(UsageChunk);
        }

        return text.Append(Done).ToString();
    }

    private static UsageObserver Observe(bool eventStream, params string[] chunks)
    {
        var observer = new UsageObserver();
        observer.Reset(eventStream);
        foreach (var chunk in chunks)
        {
            observer.Observe(Encoding.UTF8.GetBytes(chunk));
        }

        return observer;
    }

    [Fact]
    public void Json_body_in_one_chunk()
    {
        var observer = Observe(false, JsonBody);
        Assert.True(observer.TryGetUsage(out var usage));
        Assert.Equal(JsonUsage, usage);
        Assert.Equal(26, usage.TotalTokens);
        Assert.False(observer.SawUsageOnlyChunk);
        Assert.Equal(Encoding.UTF8.GetByteCount(JsonBody), observer.BytesObserved);
    }

    [Fact]
    public void Json_body_split_at_every_byte_gives_the_same_usage()
    {
        var bytes = Encoding.UTF8.GetBytes(JsonBody);
        var observer = new UsageObserver();
        for (var split = 0; split <= bytes.Length; split++)
        {
            observer.Reset(isEventStream: false);
            observer.Observe(bytes.AsSpan(0, split));
            observer.Observe(bytes.AsSpan(split));
            Assert.True(observer.TryGetUsage(out var usage), $"split at {split}");
            Assert.Equal(JsonUsage, usage);
        }
    }

    [Fact]
    public void Json_body_in_three_pieces_at_every_pair_of_split_points()
    {
        var bytes = Encoding.UTF8.GetBytes(JsonBody);
        var observer = new UsageObserver();
        for (var a = 0; a <= bytes.Length; a += 7)
        {
            for (var b = a; b <= bytes.Length; b += 5)
            {
                observer.Reset(isEventStream: false);
                observer.Observe(bytes.AsSpan(0, a));
                observer.Observe(bytes.AsSpan(a, b - a));
                observer.Observe(bytes.AsSpan(b));
                Assert.True(observer.TryGetUsage(out var usage));
                Assert.Equal(JsonUsage, usage);
            }
        }
    }

    [Fact]
    public void Long_json_body_keeps_only_the_tail_and_still_finds_usage()
    {
        var body = JsonBody.Replace("Hello!", "Hello! " + new string('x', 50_000), StringComparison.Ordinal);
        var bytes = Encoding.UTF8.GetBytes(body);
        var observer = new UsageObserver();
        observer.Reset(false);
        for (var offset = 0; offset < bytes.Length; offset += 4096)
        {
            observer.Observe(bytes.AsSpan(offset, Math.Min(4096, bytes.Length - offset)));
        }

        Assert.True(observer.TryGetUsage(out var usage));
        Assert.Equal(JsonUsage, usage);
        // A single read larger than the tail keeps its last bytes.
        observer.Reset(false);
        observer.Observe(bytes);
        Assert.True(observer.TryGetUsage(out usage));
        Assert.Equal(JsonUsage, usage);
    }

    [Fact]
    public void Sse_usage_chunk_split_across_chunks()
    {
        var stream = Encoding.UTF8.GetBytes(Stream(5));
        var observer = new UsageObserver();
        for (var split = 0; split <= stream.Length; split++)
        {
            observer.Reset(isEventStream: true);
            observer.Observe(stream.AsSpan(0, split));
            observer.Observe(stream.AsSpan(split));
            Assert.True(observer.TryGetUsage(out var usage), $"split at {split}");
            Assert.Equal(new TokenUsage(12, 5, 0), usage);
            Assert.True(observer.SawUsageOnlyChunk);
            Assert.Equal(5, observer.ContentEvents);
        }
    }

    [Fact]
    public void Sse_byte_by_byte()
    {
        var stream = Encoding.UTF8.GetBytes(Stream(40));
        var observer = new UsageObserver();
        observer.Reset(isEventStream: true);
        for (var i = 0; i < stream.Length; i++)
        {
            observer.Observe(stream.AsSpan(i, 1));
        }

        Assert.True(observer.TryGetUsage(out var usage));
        Assert.Equal(new TokenUsage(12, 5, 0), usage);
        Assert.Equal(40, observer.ContentEvents);
    }

    [Fact]
    public void Usage_null_in_every_chunk_then_a_final_usage_chunk()
    {
        var observer = Observe(true, Stream(30, perChunkUsage: ",\"usage\":null"));
        Assert.True(observer.TryGetUsage(out var usage));
        Assert.Equal(new TokenUsage(12, 5, 0), usage);
        Assert.True(observer.SawUsageOnlyChunk);
        Assert.Equal(30, observer.ContentEvents);
    }

    [Fact]
    public void Usage_null_only_means_no_usage()
    {
        var observer = Observe(true, Stream(3, perChunkUsage: ",\"usage\":null", usageChunk: false));
        Assert.False(observer.TryGetUsage(out var usage));
        Assert.Equal(default, usage);
        Assert.Equal(3, observer.ContentEvents);
    }

    [Fact]
    public void Continuous_usage_takes_the_last_cumulative_value()
    {
        var text = new StringBuilder();
        for (var i = 1; i <= 4; i++)
        {
            text.Append(Chunk("\"t\"", ",\"usage\":{\"prompt_tokens\":12,\"total_tokens\":" + (12 + i) + ",\"completion_tokens\":" + i + "}"));
        }

        var observer = Observe(true, text.Append(Done).ToString());
        Assert.True(observer.TryGetUsage(out var usage));
        Assert.Equal(new TokenUsage(12, 4, 0), usage);
        // The usage rode on a content chunk, so there is no usage-only chunk to hide.
        Assert.False(observer.SawUsageOnlyChunk);
    }

    [Fact]
    public void No_usage_at_all_counts_content_events()
    {
        var text = new StringBuilder(Stream(0, usageChunk: false).Replace(Done, "", StringComparison.Ordinal));
        text.Append(Chunk("\"Hello\"")).Append(Chunk("\"\"")).Append(Chunk("null"))
            .Append(Chunk("\"\\\"quoted\\\"\""))
            .Append("data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"think\"}}]}\n\n")
            .Append("data: {\"choices\":[{\"index\":0,\"text\":\" legacy\"}]}\n\n")
            .Append("data: {\"choices\":[{\"index\":0,\"text\":\"\"}]}\n\n")
            .Append(Done);
        var observer = Observe(true, text.ToString());
        Assert.False(observer.TryGetUsage(out _));
        // Hello, "quoted" (starts with an escaped quote, which is a backslash byte), reasoning, legacy text.
        Assert.Equal(4, observer.ContentEvents);
        Assert.False(observer.SawUsageOnlyChunk);
    }

    [Fact]
    public void Content_events_are_counted_once_at_every_split()
    {
        var bytes = Encoding.UTF8.GetBytes(Stream(6));
        var observer = new UsageObserver();
        for (var a = 0; a <= bytes.Length; a += 3)
        {
            for (var b = a; b <= bytes.Length; b += 11)
            {
                observer.Reset(isEventStream: true);
                observer.Observe(bytes.AsSpan(0, a));
                observer.Observe(bytes.AsSpan(a, b - a));
                observer.Observe(bytes.AsSpan(b));
                Assert.Equal(6, observer.ContentEvents);
            }
        }
    }

    [Fact]
    public void Json_bodies_do_not_count_content_events()
    {
        var observer = Observe(false, JsonBody);
        Assert.Equal(0, observer.ContentEvents);
    }

    [Fact]
    public void Cached_tokens_and_responses_api_names()
    {
        var chat = Observe(false, """{"usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,"prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}""");
        Assert.True(chat.TryGetUsage(out var usage));
        Assert.Equal(new TokenUsage(2006, 300, 1920) { ReportsCachedTokens = true }, usage);

        var responses = Observe(true, "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"r\",\"usage\":{\"input_tokens\":36,\"input_tokens_details\":{\"cached_tokens\":4},\"output_tokens\":87,\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":123}}}\n\n");
        Assert.True(responses.TryGetUsage(out usage));
        Assert.Equal(new TokenUsage(36, 87, 4) { ReportsCachedTokens = true }, usage);
    }

    [Fact]
    public void Whitespace_around_the_colon_is_allowed()
    {
        var observer = Observe(false, "{\n  \"usage\" : {\n    \"prompt_tokens\": 3,\n    \"completion_tokens\": 4\n  }\n}\n");
        Assert.True(observer.TryGetUsage(out var usage));
        Assert.Equal(new TokenUsage(3, 4, 0), usage);
    }

    [Fact]
    public void A_usage_object_cut_off_by_the_tail_falls_back_to_an_earlier_one()
    {
        // Usage at the front of a body longer than the tail: the first "usage" member is gone, so none is found.
        var body = "{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2},\"pad\":\"" + new string('p', 3 * UsageObserver.TailCapacity) + "\"}";
        Assert.False(Observe(false, body).TryGetUsage(out _));

        // A truncated last object: the complete one before it wins.
        var stream = Chunk("\"a\"", ",\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}") + "data: {\"usage\":{\"prompt_tokens\":5,\"compl";
        Assert.True(Observe(true, stream).TryGetUsage(out var usage));
        Assert.Equal(new TokenUsage(5, 1, 0), usage);
    }

    [Fact]
    public void Garbage_never_throws()
    {
        var random = new System.Random(7);
        var observer = new UsageObserver();
        string[] pieces = ["\"usage\"", ":", "{", "}", "[", "]", "\"prompt_tokens\"", "\"cached_tokens\"", "\"prompt_tokens_details\"", "12", "-1", "99999999999", "null", ",", "\"", "\\", "data: ", "\n\n", "\"content\":\"", "\"text\":\"", "x", "\"choices\":[]"];
        for (var round = 0; round < 2_000; round++)
        {
            observer.Reset(isEventStream: round % 2 == 0);
            var count = random.Next(1, 60);
            for (var i = 0; i < count; i++)
            {
                if (random.Next(4) == 0)
                {
                    var noise = new byte[random.Next(0, 300)];
                    random.NextBytes(noise);
                    observer.Observe(noise);
                }
                else
                {
                    observer.Observe(Encoding.UTF8.GetBytes(pieces[random.Next(pieces.Length)]));
                }
            }

            if (observer.TryGetUsage(out var usage))
            {
                Assert.True(usage.PromptTokens >= 0 && usage.CompletionTokens >= 0 && usage.CachedPromptTokens >= 0);
            }
        }

        observer.Reset(false);
        Assert.False(observer.TryGetUsage(out _));
        Assert.Equal(0, observer.BytesObserved);
    }

    [Fact]
    public void Wrong_types_are_not_usage()
    {
        Assert.False(Observe(false, """{"usage":{"prompt_tokens":"12","completion_tokens":[1]}}""").TryGetUsage(out _));
        Assert.False(Observe(false, """{"usage":{}}""").TryGetUsage(out _));
        Assert.False(Observe(false, """{"usage":[1,2]}""").TryGetUsage(out _));
        Assert.True(Observe(false, """{"usage":{"prompt_tokens":{"a":1},"completion_tokens":3}}""").TryGetUsage(out var usage));
        Assert.Equal(new TokenUsage(0, 3, 0), usage);
    }

    [Fact]
    public void Reset_reuses_the_instance()
    {
        var observer = Observe(true, Stream(3));
        Assert.True(observer.TryGetUsage(out _));
        observer.Reset(isEventStream: true);
        Assert.Equal(0, observer.ContentEvents);
        Assert.False(observer.SawUsageOnlyChunk);
        Assert.False(observer.TryGetUsage(out _));
        observer.Observe(Encoding.UTF8.GetBytes(Stream(2)));
        Assert.True(observer.TryGetUsage(out var usage));
        Assert.Equal(2, observer.ContentEvents);
        Assert.Equal(new TokenUsage(12, 5, 0), usage);
    }

    [Fact]
    public void Observe_and_TryGetUsage_allocate_nothing()
    {
        var events = new byte[1_000][];
        for (var i = 0; i < events.Length; i++)
        {
            events[i] = Encoding.UTF8.GetBytes(Chunk("\"tok" + i + "\"", ",\"usage\":null"));
        }

        var usageChunk = Encoding.UTF8.GetBytes(UsageChunk + Done);
        var observer = new UsageObserver();
        Run(observer, events, usageChunk);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var found = Run(observer, events, usageChunk);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(found);
        Assert.Equal(1_000, observer.ContentEvents);
        Assert.Equal(0, allocated);
    }

    private static bool Run(UsageObserver observer, byte[][] events, byte[] usageChunk)
    {
        observer.Reset(isEventStream: true);
        foreach (var e in events)
        {
            observer.Observe(e);
        }

        observer.Observe(usageChunk);
        return observer.TryGetUsage(out _);
    }
}
