using System.Text;
using Proxy.Transforms.Responses;
using Proxy.Transforms.Streaming;

namespace Proxy.Transforms.Tests.Responses;

public class ResponseIdRewriterTests
{
    private static readonly string Ours = ResponseIdCodec.Encode("hosted_vllm", "dep1", "resp_up1");
    private static readonly string OursPrevious = ResponseIdCodec.Encode("hosted_vllm", "dep1", "resp_up0");

    [Fact]
    public void JsonAnswer_IdAndPreviousId_AreRewritten_ItemIdsAndTextAreNot()
    {
        var json = """{"id":"resp_up1","object":"response","previous_response_id":"resp_up0","output":[{"id":"msg_9","type":"message","content":[{"type":"output_text","text":"the id is \"id\":\"resp_up1\" here"}]}]}""";

        var result = RewriteWhole(json, stream: false);

        Assert.Equal(json.Replace("\"id\":\"resp_up1\",", $"\"id\":\"{Ours}\",", StringComparison.Ordinal)
            .Replace("\"resp_up0\"", $"\"{OursPrevious}\"", StringComparison.Ordinal), result);
        Assert.Contains("\"msg_9\"", result, StringComparison.Ordinal);
        Assert.Contains("""the id is \"id\":\"resp_up1\" here""", result, StringComparison.Ordinal);
    }

    [Fact]
    public void SpacedJson_IsRewrittenToo()
    {
        var result = RewriteWhole("""{ "id" : "resp_up1", "status": "completed" }""", stream: false);

        Assert.Equal($$"""{ "id" : "{{Ours}}", "status": "completed" }""", result);
    }

    [Fact]
    public void Stream_SplitAnywhere_GivesTheSameEventsAsWhole()
    {
        var events = "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_up1\",\"status\":\"in_progress\"}}\n\n"
            + "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"item_id\":\"msg_1\",\"delta\":\" hello\"}\n\n"
            + "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":2,\"response\":{\"id\":\"resp_up1\",\"status\":\"completed\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n";
        var expected = events.Replace("resp_up1", Ours, StringComparison.Ordinal);
        var bytes = Encoding.UTF8.GetBytes(events);

        for (var split = 1; split < bytes.Length; split += 7)
        {
            using var rewriter = new ResponseIdRewriter("hosted_vllm", "dep1", stream: true);
            using var output = new ArrayPoolBufferWriter();
            rewriter.Write(bytes.AsSpan(0, split), output);
            rewriter.Write(bytes.AsSpan(split), output);
            rewriter.Complete(output);
            Assert.Equal(expected, Encoding.UTF8.GetString(output.WrittenSpan));
        }
    }

    [Fact]
    public void Stream_WritesCompleteEventsAtOnce()
    {
        using var rewriter = new ResponseIdRewriter("hosted_vllm", "dep1", stream: true);
        using var output = new ArrayPoolBufferWriter();

        rewriter.Write(Encoding.UTF8.GetBytes("data: {\"response\":{\"id\":\"resp_up1\"}}\n\ndata: {\"partial"), output);

        Assert.Equal($"data: {{\"response\":{{\"id\":\"{Ours}\"}}}}\n\n", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void AnIdThatIsAlreadyOurs_IsLeftAlone()
    {
        var json = $$"""{"id":"{{Ours}}"}""";

        Assert.Equal(json, RewriteWhole(json, stream: false));
    }

    private static string RewriteWhole(string text, bool stream)
    {
        using var rewriter = new ResponseIdRewriter("hosted_vllm", "dep1", stream);
        using var output = new ArrayPoolBufferWriter();
        rewriter.Write(Encoding.UTF8.GetBytes(text), output);
        rewriter.Complete(output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }
}
