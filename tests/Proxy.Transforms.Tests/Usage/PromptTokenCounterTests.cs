using System.Diagnostics;
using System.Text;
using Microsoft.ML.Tokenizers;
using Proxy.Transforms.Usage;
using Xunit.Abstractions;

namespace Proxy.Transforms.Tests.Usage;

public sealed class PromptTokenCounterTests(ITestOutputHelper output)
{
    // Creating the tokenizer is the expensive part; one counter serves every test, as in the host.
    private static readonly PromptTokenCounter Counter = new();

    // A chat body's framing: 3 to prime the reply + 3 per message.
    private const int Priming = 3;
    private const int PerMessage = 3;

    private static int Count(string json) => Counter.CountPromptTokens(Encoding.UTF8.GetBytes(json));

    private static string Json(string text) => System.Text.Json.JsonSerializer.Serialize(text);

    private static int Text(string text) => Count("{\"prompt\":" + Json(text) + "}");

    [Theory]
    [InlineData("hello world", 2)]
    [InlineData("", 0)]
    // Examples from OpenAI's "How to count tokens with tiktoken" cookbook, cl100k_base column.
    [InlineData("antidisestablishmentarianism", 6)]
    [InlineData("tiktoken is great!", 6)]
    [InlineData("お誕生日おめでとう", 9)]
    public void Known_cl100k_counts(string text, int expected) => Assert.Equal(expected, Text(text));

    [Fact]
    public void Chinese_sentence()
    {
        // Regression value from Microsoft.ML.Tokenizers 2.0.1 cl100k_base (16 characters, 18 tokens): most CJK
        // characters are one token or more in cl100k.
        Assert.Equal(18, Text("我们今天去公园散步，天气非常好。"));
    }

    [Fact]
    public void Escaped_strings_are_unescaped_before_counting() =>
        Assert.Equal(Text("hello world"), Count("{\"prompt\":\"hello\\u0020world\"}"));

    [Fact]
    public void Chat_overhead_matches_the_openai_cookbook_example()
    {
        // num_tokens_from_messages() in the cookbook gives 129 for these messages with gpt-3.5-turbo-0613/gpt-4.
        const string body = """
            {"model":"gpt-4","messages":[
            {"role":"system","content":"You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
            {"role":"system","name":"example_user","content":"New synergies will help drive top-line growth."},
            {"role":"system","name":"example_assistant","content":"Things working well together will increase revenue."},
            {"role":"system","name":"example_user","content":"Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
            {"role":"system","name":"example_assistant","content":"Let's talk later when we're less busy about how to do better."},
            {"role":"user","content":"This late pivot means we don't have time to boil the ocean for the client deliverable."}
            ]}
            """;
        Assert.Equal(129, Count(body));
    }

    [Fact]
    public void Chat_overhead_arithmetic()
    {
        var user = Text("user");
        var assistant = Text("assistant");
        var hello = Text("hello world");
        var hi = Text("hi there");
        var bob = Text("bob");

        Assert.Equal(Priming + PerMessage + user + hello,
            Count("""{"messages":[{"role":"user","content":"hello world"}]}"""));
        Assert.Equal(Priming + (2 * PerMessage) + user + hello + assistant + hi,
            Count("""{"messages":[{"role":"user","content":"hello world"},{"content":"hi there","role":"assistant"}]}"""));
        // A name costs its tokens plus one.
        Assert.Equal(Priming + PerMessage + user + hello + bob + 1,
            Count("""{"messages":[{"role":"user","name":"bob","content":"hello world"}]}"""));
        // Null content (an assistant turn with only tool calls) counts nothing.
        Assert.Equal(Priming + PerMessage + assistant,
            Count("""{"messages":[{"role":"assistant","content":null}]}"""));
        Assert.Equal(Priming, Count("""{"messages":[]}"""));
    }

    [Fact]
    public void Member_order_does_not_matter()
    {
        var expected = Count("""{"model":"m","messages":[{"role":"user","content":"hello world"}],"stream":true}""");
        Assert.Equal(expected, Count("""{"stream":true,"messages":[{"content":"hello world","role":"user"}],"model":"m"}"""));
    }

    [Fact]
    public void Parts_arrays_count_text_parts_and_a_flat_85_per_image()
    {
        var user = Text("user");
        var body = """
            {"messages":[{"role":"user","content":[
              {"type":"text","text":"hello world"},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":"high"}},
              {"text":"hi there","type":"text"},
              {"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}
            ]}]}
            """;
        Assert.Equal(Priming + PerMessage + user + Text("hello world") + 85 + Text("hi there"), Count(body));
    }

    [Fact]
    public void Legacy_prompt_and_embeddings_input()
    {
        Assert.Equal(2, Count("""{"model":"m","prompt":"hello world"}"""));
        Assert.Equal(2 + Text("hi there"), Count("""{"prompt":["hello world","hi there"]}"""));
        Assert.Equal(2, Count("""{"input":"hello world","model":"text-embedding-3-small"}"""));
        Assert.Equal(4, Count("""{"input":["hello","world","hello world"]}"""));
        // Token ids are one token each, flat or nested.
        Assert.Equal(3, Count("""{"input":[15339,1917,0]}"""));
        Assert.Equal(5, Count("""{"input":[[15339,1917],[1,2,3]]}"""));
    }

    [Fact]
    public void Tools_count_their_raw_json()
    {
        const string tools = """[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]""";
        var without = Count("""{"messages":[{"role":"user","content":"hello world"}]}""");
        var with = Count("{\"messages\":[{\"role\":\"user\",\"content\":\"hello world\"}],\"tools\":" + tools + "}");
        Assert.Equal(without + Text(tools), with);
    }

    [Fact]
    public void A_part_with_a_non_string_type_counts_nothing() =>
        Assert.Equal(Priming + PerMessage + Text("user"),
            Count("""{"messages":[{"role":"user","content":[{"type":1,"text":"hello world"}]}]}"""));

    [Fact]
    public void Invalid_json_and_invalid_utf8_count_zero()
    {
        Assert.Equal(0, Count("{\"prompt\":\"hello"));
        Assert.Equal(0, Count("{\"prompt\":\"hello\"} trailing"));
        Assert.Equal(0, Count("[\"hello\"]"));
        Assert.Equal(0, Count("not json"));
        Assert.Equal(0, Count("\"hello\""));
        Assert.Equal(0, Counter.CountPromptTokens([(byte)'{', (byte)'"', (byte)'p', (byte)'r', (byte)'o', (byte)'m', (byte)'p', (byte)'t', (byte)'"', (byte)':', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'}']));
        Assert.Equal(0, Counter.CountPromptTokens([]));
    }

    [Fact]
    public void A_12k_char_prompt_is_counted_in_linear_time()
    {
        // Not a timed assertion: it guards against a quadratic path by comparing 12 k with 48 k characters.
        var words = new StringBuilder();
        var i = 0;
        while (words.Length < 48_000)
        {
            words.Append("token").Append(i++ % 997).Append(' ');
        }

        var small = Encoding.UTF8.GetBytes("{\"messages\":[{\"role\":\"user\",\"content\":" + Json(words.ToString(0, 12_000)) + "}]}");
        var large = Encoding.UTF8.GetBytes("{\"messages\":[{\"role\":\"user\",\"content\":" + Json(words.ToString()) + "}]}");
        var smallCount = Counter.CountPromptTokens(small);
        var largeCount = Counter.CountPromptTokens(large);
        Assert.InRange(smallCount, 2_000, 6_000);
        Assert.InRange(largeCount, 3 * smallCount, 5 * smallCount);

        var watch = Stopwatch.StartNew();
        for (var n = 0; n < 20; n++)
        {
            Counter.CountPromptTokens(small);
        }

        watch.Stop();
        // Reported, not asserted.
        output.WriteLine($"12k-char prompt: {watch.Elapsed.TotalMilliseconds / 20:F3} ms per count");
    }

    [Fact]
    public void Slicing_at_word_boundaries_does_not_change_the_count_of_normal_text()
    {
        var tokenizer = TiktokenTokenizer.CreateForEncoding("cl100k_base");
        var text = new StringBuilder();
        var i = 0;
        while (text.Length < 3 * PromptTokenCounter.SegmentChars)
        {
            // Words, numbers, punctuation, double spaces, newlines and indentation, as in code and prose.
            text.Append("Word").Append(i % 13).Append(i % 5 == 0 ? ",  " : " ").Append(i % 17 == 0 ? "\n    if (x) { y(); }\n" : "")
                .Append(i % 29 == 0 ? "日本語のテキスト。 " : "").Append(i % 7 == 0 ? "我们今天去公园散步，天气非常好。" : "")
                .Append(i % 11 == 0 ? "it's we'll x/y-z (a) [b] \"q\" 12345 v2 " : "").Append(i % 31 == 0 ? "\r\n\r\n  " : "");
            i++;
        }

        var value = text.ToString();
        Assert.Equal(tokenizer.CountTokens(value), Counter.CountText(value));
    }

    [Theory]
    [InlineData('x')]
    [InlineData(' ')]
    [InlineData('\n')]
    [InlineData('!')]
    public void Long_runs_without_a_word_boundary_are_sliced_and_stay_close(char c)
    {
        var tokenizer = TiktokenTokenizer.CreateForEncoding("cl100k_base");
        var text = "start " + new string(c, 3_000) + " end";
        var exact = tokenizer.CountTokens(text);
        var sliced = Counter.CountText(text);
        // At most a token or so per forced cut (3000 / 256 ≈ 12 cuts).
        Assert.InRange(sliced, exact - 15, exact + 15);
    }

    [Fact]
    public void Surrogate_pairs_are_not_split_by_a_forced_cut()
    {
        // 255 letters then emoji: the forced cut at 256 would fall inside the first pair.
        var text = new string('a', 255) + string.Concat(Enumerable.Repeat("😀", 400));
        Assert.True(Counter.CountText(text) > 0);
    }

    [Fact]
    public void Pathological_runs_are_linear()
    {
        // 12 k letters with no space took ~200 ms in one tokenizer call; sliced it is a few milliseconds. Not a timed
        // assertion: 48 k must not take ~16x the time of 12 k; reported for the record.
        var small = "{\"prompt\":\"" + new string('q', 12_000) + "\"}";
        var large = "{\"prompt\":\"" + new string('q', 48_000) + "\"}";
        Count(small);
        var watch = Stopwatch.StartNew();
        var smallCount = Count(small);
        var smallTime = watch.Elapsed;
        watch.Restart();
        var largeCount = Count(large);
        var largeTime = watch.Elapsed;
        Assert.InRange(largeCount, 3 * smallCount, 5 * smallCount);
        output.WriteLine($"12k-letter run: {smallTime.TotalMilliseconds:F2} ms; 48k: {largeTime.TotalMilliseconds:F2} ms");
    }
}
