using System.Text;
using Proxy.Abstractions;
using Proxy.Transforms.Body;
using Proxy.Transforms.Routing;

namespace Proxy.Transforms.Tests.Routing;

public sealed class PromptBlockHasherTests
{
    private static readonly string Document = string.Concat(Enumerable.Range(0, 200).Select(i => $"Sentence {i} of a long shared document. "));

    [Fact]
    public void Next_turn_keeps_every_full_block_of_the_previous_turn()
    {
        var turn1 = Chat($$"""[{"role":"system","content":"{{Document}}"},{"role":"user","content":"What is it about?"}]""");
        var turn2 = Chat($$"""[{"role":"system","content":"{{Document}}"},{"role":"user","content":"What is it about?"},{"role":"assistant","content":"A document."},{"role":"user","content":"Say more."}]""");

        var first = Hashes(turn1);
        var second = Hashes(turn2);

        // All but the last (partial, closed by ']') block of turn 1 are the first blocks of turn 2.
        Assert.True(first.Length > 20);
        Assert.Equal(first[..^1], second[..(first.Length - 1)]);
        Assert.NotEqual(first[^1], second[first.Length - 1]);
    }

    [Fact]
    public void Chain_breaks_for_good_at_the_first_difference()
    {
        var a = Hashes(Chat($$"""[{"role":"user","content":"A{{Document}}"}]"""));
        var b = Hashes(Chat($$"""[{"role":"user","content":"B{{Document}}"}]"""));

        // Same text after the first byte, but every block hash covers everything before it.
        Assert.Empty(a.Intersect(b));
    }

    [Fact]
    public void Tools_seed_the_chain()
    {
        const string messages = """[{"role":"user","content":"hello there, how are you today? I have a question about the weather tomorrow"}]""";
        var plain = Hashes($$"""{"model":"m","messages":{{messages}}}""");
        var withTools = Hashes($$$"""{"model":"m","tools":[{"type":"function","function":{"name":"f"}}],"messages":{{{messages}}}}""");
        var otherTools = Hashes($$$"""{"model":"m","tools":[{"type":"function","function":{"name":"g"}}],"messages":{{{messages}}}}""");

        Assert.Equal(plain.Length, withTools.Length);
        Assert.Empty(plain.Intersect(withTools));
        Assert.Empty(withTools.Intersect(otherTools));
    }

    [Fact]
    public void Member_order_and_other_fields_do_not_matter()
    {
        var messages = $$"""[{"role":"user","content":"{{Document}}"}]""";
        var a = Hashes($$"""{"model":"m","temperature":0.2,"messages":{{messages}},"stream":true}""");
        var b = Hashes($$"""{"stream":false,"messages":{{messages}},"max_tokens":9,"model":"other"}""");

        Assert.Equal(a, b);
    }

    [Fact]
    public void Anthropic_system_comes_before_messages_and_chains_into_them()
    {
        var system = Hashes($$"""{"model":"m","system":"{{Document}}","messages":[{"role":"user","content":"hi"}]}""");
        var same = Hashes($$"""{"messages":[{"role":"user","content":"hi"}],"model":"m","system":"{{Document}}"}""");
        var asMessage = Hashes($$"""{"model":"m","system":"{{Document}}","messages":[{"role":"user","content":"bye"}]}""");

        Assert.Equal(system, same);
        // The system text's full blocks are shared; the blocks where the messages start are not.
        var shared = (Encoding.UTF8.GetByteCount(Document) + 2) / PromptBlocks.BlockBytes;
        Assert.Equal(system[..shared], asMessage[..shared]);
        Assert.NotEqual(system[^1], asMessage[^1]);
    }

    [Theory]
    [InlineData("""{"model":"m","prompt":"Once upon a time there was a long prompt that went on and on and on and on"}""")]
    [InlineData("""{"model":"m","input":[{"role":"user","content":"a Responses API input that is long enough for two blocks of text"}]}""")]
    [InlineData("""{"model":"m","instructions":"be brief","input":"a Responses API string input"}""")]
    public void Completions_and_responses_bodies_have_blocks(string json)
    {
        var hashes = Hashes(json);

        Assert.NotEmpty(hashes);
        Assert.DoesNotContain(0UL, hashes);
    }

    [Fact]
    public void Count_and_bytes_cover_the_prompt_members_only()
    {
        const string messages = """[{"role":"user","content":"hi"}]""";
        var body = Encoding.UTF8.GetBytes($$"""{"model":"m","messages":{{messages}},"temperature":1}""");
        Assert.Equal(ScanStatus.Ok, RequestScanner.Scan(body, out var scan));

        using var blocks = PromptBlockHasher.Compute(body, scan)!;

        Assert.Equal(messages.Length, blocks.PromptBytes);
        Assert.Equal(1, blocks.Count);
    }

    [Fact]
    public void No_prompt_member_means_no_blocks()
    {
        var body = Encoding.UTF8.GetBytes("""{"model":"m","temperature":1}""");
        Assert.Equal(ScanStatus.Ok, RequestScanner.Scan(body, out var scan));

        Assert.Null(PromptBlockHasher.Compute(body, scan));
    }

    [Fact]
    public void Hash_allocates_nothing()
    {
        var body = Encoding.UTF8.GetBytes(Chat($$"""[{"role":"user","content":"{{Document}}"}]"""));
        Assert.Equal(ScanStatus.Ok, RequestScanner.Scan(body, out var scan));
        var destination = new ulong[PromptBlockHasher.CountBlocks(scan, out _)];
        PromptBlockHasher.Hash(body, scan, destination, out _);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++)
        {
            PromptBlockHasher.Hash(body, scan, destination, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Conversation_block_is_past_the_system_prompt_and_the_same_in_every_turn()
    {
        var system = $$"""{"role":"system","content":"{{Document}}"}""";
        var turn1 = Blocks(Chat($$"""[{{system}},{"role":"user","content":"What is it about?"}]"""));
        var turn2 = Blocks(Chat($$"""[{{system}},{"role":"user","content":"What is it about?"},{"role":"assistant","content":"A document."},{"role":"user","content":"More."}]"""));
        var noSystem = Blocks(Chat("""[{"role":"user","content":"What is it about?"}]"""));

        // [ + the system message + , : the first turn starts at that offset; its first whole block follows.
        Assert.Equal(((system.Length + 2) / PromptBlocks.BlockBytes) + 1, turn1);
        Assert.Equal(turn1, turn2);
        Assert.Equal(0, noSystem);
        Assert.Equal(0, Blocks("""{"model":"m","prompt":"a completion prompt"}"""));
    }

    [Fact]
    public void Scanner_finds_the_first_turn_after_system_and_developer_messages()
    {
        const string json = """{"messages":[{"role":"system","content":"s"},{"content":"d","role":"developer"},{"role":"user","content":"u"}],"model":"m"}""";
        var scan = BodyTestScan(json);

        Assert.Equal(json.IndexOf("{\"role\":\"user\"", StringComparison.Ordinal), scan.FirstTurnOffset);
    }

    private static RequestScan BodyTestScan(string json)
    {
        Assert.Equal(ScanStatus.Ok, RequestScanner.Scan(Encoding.UTF8.GetBytes(json), out var scan));
        return scan;
    }

    private static int Blocks(string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        Assert.Equal(ScanStatus.Ok, RequestScanner.Scan(body, out var scan));
        using var blocks = PromptBlockHasher.Compute(body, scan)!;
        return blocks.ConversationBlock;
    }

    private static string Chat(string messages) => $$"""{"model":"m","messages":{{messages}}}""";

    private static ulong[] Hashes(string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        Assert.Equal(ScanStatus.Ok, RequestScanner.Scan(body, out var scan));
        using var blocks = PromptBlockHasher.Compute(body, scan);
        return blocks is null ? [] : blocks.Hashes.ToArray();
    }
}
