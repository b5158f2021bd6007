using System.Text;
using Proxy.Transforms.Guardrails;

namespace Proxy.Transforms.Tests.Guardrails;

public sealed class GuardParsingTests
{
    [Fact]
    public void GuardInput_ReadsMessagesRequestedGuardrailsAndModel()
    {
        var input = GuardInput.Parse("""
            {"model":"m","guardrails":["a"],"metadata":{"x":1,"guardrails":["b"]},"messages":[
              {"role":"system","content":"be nice"},
              {"role":"user","content":[{"type":"text","text":"part one"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"part two"}]},
              {"role":"assistant","content":"answer"},
              {"role":"tool","content":null}]}
            """u8);

        Assert.Equal("m", input.Model);
        Assert.Equal(["a", "b"], input.Requested);
        Assert.Equal([new GuardMessage(false, "be nice"), new GuardMessage(false, "part one\npart two"), new GuardMessage(true, "answer")], input.Messages);
        Assert.Equal("be nice\npart one\npart two", input.InputText());
    }

    [Fact]
    public void GuardInput_ReadsPromptsAndInputsAsUserTurns()
    {
        var input = GuardInput.Parse("""{"input":["one",[1,2],"two"],"guardrails":{"g":{"extra":true}}}"""u8);

        Assert.Equal(["one", "two"], input.Texts);
        Assert.Equal(["g"], input.Requested);
        Assert.Equal([new GuardMessage(false, "one"), new GuardMessage(false, "two")], input.Conversation());
    }

    [Fact]
    public void GuardInput_WithoutGuardrails_RequestsNone() =>
        Assert.Null(GuardInput.Parse("""{"prompt":"hi"}"""u8).Requested);

    [Fact]
    public void SseTextCollector_JoinsDeltasAcrossSplitPiecesAndSeesDone()
    {
        var stream = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"}}]}\n\n" +
                     "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo, 世界\"}}]}\r\n\r\n" +
                     "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\n\n" +
                     "data: [DONE]\n\n";
        var bytes = Encoding.UTF8.GetBytes(stream);
        var collector = new SseTextCollector();
        var done = false;
        // Pieces of 7 bytes split lines, JSON and UTF-8 sequences anywhere.
        for (var i = 0; i < bytes.Length; i += 7)
        {
            done |= collector.Feed(bytes.AsSpan(i, Math.Min(7, bytes.Length - i)));
        }

        Assert.True(done);
        Assert.Equal("Hello, 世界", collector.Text);
    }

    [Fact]
    public void SseTextCollector_ReadsCompletionsText()
    {
        var collector = new SseTextCollector();

        var done = collector.Feed("data: {\"choices\":[{\"text\":\"abc\",\"index\":0}]}\n\n"u8);

        Assert.False(done);
        Assert.Equal("abc", collector.Text);
    }

    [Fact]
    public void CompletionText_ReadsChatAndCompletions()
    {
        Assert.Equal("safe", GuardBackendClient.CompletionText("""{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"safe"}}]}"""u8));
        Assert.Equal("unsafe\nS1", GuardBackendClient.CompletionText("""{"choices":[{"text":"unsafe\nS1","index":0}]}"""u8));
        Assert.Null(GuardBackendClient.CompletionText("""{"choices":[]}"""u8));
    }

    [Fact]
    public void ParseModerations_KeepsTheBackendsOrderAndValues()
    {
        var results = GuardBackendClient.ParseModerations("""
            {"id":"modr-1","model":"m","results":[{"flagged":true,"categories":{"violence":true,"hate":false},
             "category_scores":{"hate":0.01,"violence":0.98},"category_applied_input_types":{"violence":["text"]}}]}
            """u8);

        var result = Assert.Single(results!);
        Assert.True(result.Flagged);
        Assert.Equal(["violence"], result.ViolatedCategories());
        Assert.Equal([new KeyValuePair<string, double>("hate", 0.01), new("violence", 0.98)], result.CategoryScores);
        Assert.Equal("{'error': 'Violated OpenAI moderation policy', 'moderation_result': {'violated_categories': ['violence'], 'category_scores': {'hate': 0.01, 'violence': 0.98}}}",
            GuardrailErrors.Message(result));
    }

    [Fact]
    public void ParseModerations_WithoutResultsOrFlag_IsMalformed()
    {
        Assert.Null(GuardBackendClient.ParseModerations("""{"unexpected":true}"""u8));
        Assert.Null(GuardBackendClient.ParseModerations("""{"results":[{"categories":{}}]}"""u8));
    }
}
