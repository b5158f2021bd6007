using System.Text;
using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Proxy.Transforms.Caching;

namespace Proxy.Transforms.Tests.Caching;

public sealed class CacheKeyBuilderTests
{
    private static string? Key(string json, string group = "qwen3-8b", string? ns = null, OpenAiEndpoint endpoint = OpenAiEndpoint.ChatCompletions)
    {
        var control = default(CacheControl);
        return CacheKeyBuilder.Build(Encoding.UTF8.GetBytes(json), endpoint, group, ns, ref control);
    }

    private static CacheControl Controls(string json)
    {
        var control = default(CacheControl);
        CacheKeyBuilder.Build(Encoding.UTF8.GetBytes(json), OpenAiEndpoint.ChatCompletions, "g", null, ref control);
        return control;
    }

    [Fact]
    public void Key_is_sha256_hex()
    {
        Assert.Matches("^[0-9a-f]{64}$", Key("""{"model":"a","messages":[]}"""));
    }

    [Fact]
    public void Member_order_at_every_level_does_not_change_the_key()
    {
        var a = Key("""{"model":"a","messages":[{"role":"user","content":"hi"}],"temperature":0.2,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"b":1,"a":2}}}}""");
        var b = Key("""{"response_format":{"json_schema":{"schema":{"a":2,"b":1},"name":"x"},"type":"json_schema"},"temperature":0.2,"messages":[{"content":"hi","role":"user"}],"model":"a"}""");

        Assert.Equal(a, b);
    }

    [Fact]
    public void Whitespace_and_escapes_do_not_change_the_key()
    {
        Assert.Equal(Key("""{"model":"a","messages":[{"role":"user","content":"é"}]}"""),
            Key("{ \"model\" : \"a\" ,\n \"messages\" : [ { \"role\" : \"user\" , \"content\" : \"\\u00e9\" } ] }"));
    }

    [Theory]
    [InlineData("""{"model":"a","messages":[{"role":"user","content":"hi"}],"temperature":0.3}""")]
    [InlineData("""{"model":"a","messages":[{"role":"user","content":"hi!"}],"temperature":0.2}""")]
    [InlineData("""{"model":"a","messages":[{"role":"user","content":"hi"}],"temperature":0.2,"seed":1}""")]
    [InlineData("""{"model":"a","messages":[{"role":"user","content":"hi"}],"temperature":0.2,"top_k":5}""")]
    [InlineData("""{"model":"a","messages":[{"role":"user","content":"hi"}],"temperature":0.2,"tools":[]}""")]
    public void Any_forwarded_parameter_changes_the_key(string other)
    {
        Assert.NotEqual(Key("""{"model":"a","messages":[{"role":"user","content":"hi"}],"temperature":0.2}"""), Key(other));
    }

    [Fact]
    public void Array_order_matters()
    {
        Assert.NotEqual(Key("""{"input":["a","b"]}"""), Key("""{"input":["b","a"]}"""));
    }

    [Fact]
    public void Model_group_and_endpoint_are_part_of_the_key_but_the_model_alias_is_not()
    {
        const string body = """{"model":"alias","input":"x"}""";
        Assert.Equal(Key(body), Key("""{"model":"other-alias","input":"x"}"""));
        Assert.NotEqual(Key(body, group: "g1"), Key(body, group: "g2"));
        Assert.NotEqual(Key(body), Key(body, endpoint: OpenAiEndpoint.Embeddings));
    }

    [Fact]
    public void Stream_litellm_fields_and_cache_controls_are_left_out()
    {
        var plain = Key("""{"model":"a","messages":[]}""");
        var extras = Key("""{"model":"a","stream":true,"stream_options":{"include_usage":true},"messages":[],"metadata":{"x":1},"cache":{"ttl":5},"num_retries":2,"timeout":3,"litellm_trace_id":"t"}""");

        Assert.Equal(plain, extras);
    }

    [Fact]
    public void Namespace_prefixes_the_hash_and_the_request_namespace_wins()
    {
        const string body = """{"model":"a","messages":[]}""";
        var hash = Key(body);

        Assert.Equal("cfg:" + hash, Key(body, ns: "cfg"));
        Assert.Equal("mine:" + hash, Key("""{"model":"a","messages":[],"cache":{"namespace":"mine"}}""", ns: "cfg"));
    }

    [Fact]
    public void Body_controls_are_read()
    {
        var control = Controls("""{"cache":{"no-cache":true,"no-store":"True","ttl":30,"s-max-age":"5","use-cache":true,"namespace":"n"}}""");

        Assert.True(control.NoCache);
        Assert.True(control.NoStore);
        Assert.True(control.UseCache);
        Assert.Equal(30, control.Ttl);
        Assert.Equal(5, control.MaxAge);
        Assert.Equal("n", control.Namespace);
        Assert.True(control.FromBody);
    }

    [Fact]
    public void Cache_control_header_applies_unless_the_body_has_controls()
    {
        var headers = new HeaderDictionary { ["Cache-Control"] = "no-store, s-maxage=20" };
        var fromHeader = default(CacheControl);
        CacheKeyBuilder.ApplyHeader(headers, ref fromHeader);
        var bodyWins = Controls("""{"cache":{"ttl":1}}""");
        CacheKeyBuilder.ApplyHeader(headers, ref bodyWins);

        Assert.True(fromHeader.NoStore);
        Assert.False(fromHeader.NoCache);
        Assert.Equal(20, fromHeader.MaxAge);
        Assert.False(bodyWins.NoStore);
    }

    [Fact]
    public void Many_members_out_of_order_still_give_one_key()
    {
        var names = Enumerable.Range(0, 300).Select(i => $"\"p{i:D3}\":{i}").ToArray();
        var forward = "{" + string.Join(",", names) + "}";
        var backward = "{" + string.Join(",", names.Reverse()) + "}";

        Assert.Equal(Key(forward), Key(backward));
    }
}

public sealed class CacheKeyAllocationTests
{
    [Fact]
    public void Key_of_a_large_reordered_body_allocates_only_the_key_string()
    {
        var prompt = new string('x', 12_000);
        var body = Encoding.UTF8.GetBytes(
            "{\"messages\":[{\"content\":\"" + prompt + "\",\"role\":\"user\"},{\"role\":\"assistant\",\"content\":\"ok\"}],\"temperature\":0.1,\"model\":\"qwen3\",\"max_tokens\":5}");
        var control = default(CacheControl);
        CacheKeyBuilder.Build(body, OpenAiEndpoint.ChatCompletions, "qwen3", null, ref control);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var key = CacheKeyBuilder.Build(body, OpenAiEndpoint.ChatCompletions, "qwen3", null, ref control);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.NotNull(key);
        // The 64-character hex string is ~150 bytes; pooled buffers and the hash live on the pool and the stack.
        Assert.InRange(allocated, 1, 200);
    }
}
