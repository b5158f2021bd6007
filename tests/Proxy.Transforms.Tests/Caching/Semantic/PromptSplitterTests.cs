using System.Text;
using Proxy.Abstractions;
using Proxy.Transforms.Caching;
using Proxy.Transforms.Caching.Semantic;
using Proxy.Transforms.Caching.Semantic.Prompt;
using Proxy.Transforms.Streaming;

namespace Proxy.Transforms.Tests.Caching.Semantic;

public sealed class PromptSplitterTests
{
    [Fact]
    public void Paraphrases_share_a_scope_and_differ_only_in_their_text()
    {
        var a = Split("""{"model":"m","messages":[{"role":"user","content":"What is the capital of France?"}],"temperature":0}""");
        var b = Split("""{"temperature":0,"messages":[{"content":"Tell me the capital of France","role":"user"}],"model":"m"}""");

        Assert.Equal("What is the capital of France?", a.Text);
        Assert.Equal("Tell me the capital of France", b.Text);
        Assert.Equal(a.Scope, b.Scope);
    }

    [Fact]
    public void Parameters_that_change_the_answer_change_the_scope()
    {
        var baseline = Split("""{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0}""");

        Assert.NotEqual(baseline.Scope, Split("""{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":1}""").Scope);
        Assert.NotEqual(baseline.Scope, Split("""{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0,"top_k":5}""").Scope);
        Assert.NotEqual(baseline.Scope, Split("""{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0}""", group: "other").Scope);
        Assert.NotEqual(baseline.Scope, Split("""{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0}""", OpenAiEndpoint.Completions).Scope);
    }

    [Fact]
    public void Stream_and_cache_controls_do_not_change_the_scope_and_controls_are_read()
    {
        var plain = Split("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""");
        var streamed = Split("""{"model":"m","stream":true,"cache":{"no-cache":true,"ttl":5},"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(plain.Scope, streamed.Scope);
        Assert.True(streamed.Control.NoCache);
        Assert.Equal(5, streamed.Control.Ttl);
    }

    [Fact]
    public void System_prompt_and_tool_calls_are_matched_exactly_not_embedded()
    {
        const string Template = """{"model":"m","messages":[{"role":"system","content":"SYSTEM"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"TOOL"},{"role":"user","content":"USER"}]}""";
        var a = Split(Template.Replace("SYSTEM", "You are terse.").Replace("TOOL", "42").Replace("USER", "and then?"));
        var otherUser = Split(Template.Replace("SYSTEM", "You are terse.").Replace("TOOL", "42").Replace("USER", "what next?"));
        var otherSystem = Split(Template.Replace("SYSTEM", "You are verbose.").Replace("TOOL", "42").Replace("USER", "and then?"));
        var otherTool = Split(Template.Replace("SYSTEM", "You are terse.").Replace("TOOL", "43").Replace("USER", "and then?"));

        Assert.Equal("and then?", a.Text);
        Assert.Equal(a.Scope, otherUser.Scope);
        Assert.NotEqual(a.Scope, otherSystem.Scope);
        Assert.NotEqual(a.Scope, otherTool.Scope);
    }

    [Fact]
    public void Turns_are_joined_and_their_count_is_part_of_the_scope()
    {
        var two = Split("""{"model":"m","messages":[{"role":"user","content":"first"},{"role":"assistant","content":"reply"},{"role":"user","content":"second"}]}""");
        var one = Split("""{"model":"m","messages":[{"role":"user","content":"first\nreply\nsecond"}]}""");

        Assert.Equal("first\nreply\nsecond", two.Text);
        Assert.Equal(two.Text, one.Text);
        Assert.NotEqual(two.Scope, one.Scope);
    }

    [Fact]
    public void Responses_input_is_embedded_as_a_string_or_as_its_message_items()
    {
        var text = Split("""{"model":"m","input":"What is the capital of France?","store":false}""", OpenAiEndpoint.Responses);
        var items = Split("""{"model":"m","store":false,"input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"What is the capital of France?"}]}]}""", OpenAiEndpoint.Responses);
        var otherInstructions = Split("""{"model":"m","input":"What is the capital of France?","store":false,"instructions":"Be terse."}""", OpenAiEndpoint.Responses);
        var call = Split("""{"model":"m","store":false,"input":[{"type":"function_call_output","call_id":"c","output":"12"}]}""", OpenAiEndpoint.Responses);

        Assert.Equal("What is the capital of France?", text.Text);
        Assert.Equal(text.Text, items.Text);
        Assert.NotEqual(text.Scope, otherInstructions.Scope);
        Assert.Null(call.Text);
    }

    [Fact]
    public void Text_parts_are_embedded_and_images_stay_in_the_scope()
    {
        const string Body = """{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"TEXT"},{"type":"image_url","image_url":{"url":"IMAGE"}}]}]}""";
        var a = Split(Body.Replace("TEXT", "what is in this picture").Replace("IMAGE", "https://x/1.png"));
        var paraphrase = Split(Body.Replace("TEXT", "describe this picture").Replace("IMAGE", "https://x/1.png"));
        var otherImage = Split(Body.Replace("TEXT", "what is in this picture").Replace("IMAGE", "https://x/2.png"));

        Assert.Equal("what is in this picture", a.Text);
        Assert.Equal(a.Scope, paraphrase.Scope);
        Assert.NotEqual(a.Scope, otherImage.Scope);
    }

    [Fact]
    public void Escaped_text_is_embedded_unescaped()
    {
        var split = Split("""{"model":"m","messages":[{"role":"user","content":"caf\u00e9 \"quoted\"\nline"}]}""");

        Assert.Equal("café \"quoted\"\nline", split.Text);
    }

    [Fact]
    public void Completion_prompts_split_strings_and_leave_token_ids_alone()
    {
        var text = Split("""{"model":"m","prompt":"Once upon a time","max_tokens":5}""", OpenAiEndpoint.Completions);
        var list = Split("""{"model":"m","prompt":["one","two"],"max_tokens":5}""", OpenAiEndpoint.Completions);

        Assert.Equal("Once upon a time", text.Text);
        Assert.Equal("one\ntwo", list.Text);
        Assert.Null(Split("""{"model":"m","prompt":[1,2,3]}""", OpenAiEndpoint.Completions).Text);
    }

    [Fact]
    public void Bodies_without_text_to_embed_are_left_alone()
    {
        Assert.Null(Split("""{"model":"m","messages":[]}""").Text);
        Assert.Null(Split("""{"model":"m","messages":[{"role":"system","content":"only a system prompt"}]}""").Text);
        Assert.Null(Split("""{"model":"m"}""").Text);
        Assert.Null(PromptShapes.For(OpenAiEndpoint.Embeddings));
    }

    [Fact]
    public void Tenants_and_embedding_models_separate_scopes_and_entries_follow_the_text()
    {
        const string Body = """{"model":"m","messages":[{"role":"user","content":"hi"}]}""";
        var key = Split(Body).SkeletonKey!;

        // The tenant goes into the skeleton's exact key, as for the exact cache's key scope.
        Assert.NotEqual(Split(Body, tenant: "key:a").Scope, Split(Body, tenant: "key:b").Scope);
        Assert.NotEqual(SemanticScope.Of(key, "embed"), SemanticScope.Of(key, "embed-2"));
        Assert.Equal(CacheScope.Key, SemanticScope.TenantScope(CacheScope.Global));
        Assert.Equal(CacheScope.Team, SemanticScope.TenantScope(CacheScope.Team));
        var scope = SemanticScope.Of(key, "embed");
        Assert.Matches("^[0-9a-f]{64}$", scope);
        Assert.Matches("^[0-9a-f]{32}$", SemanticScope.EntryId(scope, "hi"));
        Assert.Equal(SemanticScope.EntryId(scope, "hi"), SemanticScope.EntryId(scope, "hi"));
        Assert.NotEqual(SemanticScope.EntryId(scope, "hi"), SemanticScope.EntryId(scope, "hello"));
    }

    private static Result Split(string body, OpenAiEndpoint endpoint = OpenAiEndpoint.ChatCompletions, string group = "m", string tenant = "master")
    {
        var shape = PromptShapes.For(endpoint)!;
        using var skeleton = new ArrayPoolBufferWriter();
        var text = PromptSplitter.Split(Encoding.UTF8.GetBytes(body), shape, skeleton);
        if (text is null)
        {
            return new Result(null, null, null, default);
        }

        var control = default(CacheControl);
        var key = CacheKeyBuilder.Build(skeleton.WrittenMemory.Span, endpoint, group, null, tenant, ref control);
        return new Result(text, key, SemanticScope.Of(key!, "embed"), control);
    }

    private sealed record Result(string? Text, string? SkeletonKey, string? Scope, CacheControl Control);
}
