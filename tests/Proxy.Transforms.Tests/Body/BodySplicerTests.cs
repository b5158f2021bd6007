using System.Text;
using System.Text.Json;
using Proxy.Transforms.Body;
using static Proxy.Transforms.Tests.Body.BodyTestHelpers;

namespace Proxy.Transforms.Tests.Body;

public sealed class BodySplicerTests
{
    [Fact]
    public void Replaces_model_and_keeps_all_other_bytes()
    {
        const string json = "{ \"messages\" : [ {\"model\":\"decoy\"} ],\n  \"model\" :\t\"alias\" ,\r\n \"n\": 1.50 }\n";
        Assert.Equal("{ \"messages\" : [ {\"model\":\"decoy\"} ],\n  \"model\" :\t\"Qwen/Qwen3-8B\" ,\r\n \"n\": 1.50 }\n",
            Splice(json, "Qwen/Qwen3-8B"));
    }

    [Theory]
    [InlineData("""{"metadata":{"a":1},"model":"m","n":1}""", """{"model":"m","n":1}""")]
    [InlineData("""{"model":"m","metadata":{"a":1},"n":1}""", """{"model":"m","n":1}""")]
    [InlineData("""{"model":"m","n":1,"metadata":{"a":1}}""", """{"model":"m","n":1}""")]
    [InlineData("""{"metadata":{"a":1}}""", """{}""")]
    [InlineData("""{ "metadata" : 1 , "tags" : [] , "model" : "m" }""", """{  "model" : "m" }""")]
    [InlineData("""{ "model" : "m" , "tags" : [] , "metadata" : 1 }""", """{ "model" : "m" }""")]
    [InlineData("""{ "tags" : [] , "metadata" : 1 }""", """{  }""")]
    [InlineData("{\n  \"model\": \"m\",\n  \"api_key\": \"sk\",\n  \"n\": 1\n}", "{\n  \"model\": \"m\",\n  \"n\": 1\n}")]
    [InlineData("""{"a":1,"tags":1,"b":2,"cache":1,"c":3,"caching":1}""", """{"a":1,"b":2,"c":3}""")]
    public void Removing_first_middle_last_and_only_members_stays_valid(string json, string expected) =>
        Assert.Equal(expected, Splice(json, newModel: null));

    [Theory]
    [InlineData("quote\"d")]
    [InlineData("back\\slash")]
    [InlineData("ünïcødé/模型")]
    [InlineData("emoji 🦙")]
    [InlineData("ctrl\n\t\r\u0001\u001f")]
    [InlineData("</script>&+'")]
    [InlineData("")]
    public void New_model_is_escaped_so_it_decodes_back(string newModel)
    {
        var output = Splice("""{"model":"alias","n":1}""", newModel);
        using var document = JsonDocument.Parse(output);
        Assert.Equal(newModel, document.RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public void Lone_surrogate_is_written_as_an_escape()
    {
        var bytes = """{"model":"a"}"""u8.ToArray();
        Assert.Equal(ScanStatus.Ok, RequestScanner.Scan(bytes, out var scan));
        using var output = BodySplicer.Splice(bytes, in scan, "x\ud800y", false);
        Assert.Equal("""{"model":"x\ud800y"}""", Encoding.UTF8.GetString(output.Span));
    }

    [Fact]
    public void Same_model_keeps_the_clients_bytes_and_is_identity()
    {
        const string json = """{"model":"qwen\u0033","n":1}""";
        Assert.Equal(json, Splice(json, "qwen3"));
        Assert.True(BodySplicer.IsIdentity(ScanOk(json), Encoding.UTF8.GetBytes(json), "qwen3", false));
        Assert.False(BodySplicer.IsIdentity(ScanOk(json), Encoding.UTF8.GetBytes(json), "other", false));
    }

    [Fact]
    public void Missing_model_is_added_when_a_new_one_is_given()
    {
        Assert.Equal("""{"n":1,"model":"m"}""", Splice("""{"n":1}""", "m"));
        Assert.Equal("""{"model":"m"}""", Splice("""{}""", "m"));
        Assert.Equal("""{ "model":"m"}""", Splice("""{ "tags":[] }""".Replace(" }", "}", StringComparison.Ordinal), "m"));
        Assert.Equal("""{"n":1}""", Splice("""{"n":1}""", null));
    }

    [Fact]
    public void Non_string_model_is_replaced_by_the_new_string()
    {
        Assert.Equal("""{"model":"m","n":1}""", Splice("""{"model":{"x":[1]},"n":1}""", "m"));
    }

    [Fact]
    public void Include_usage_is_added_when_stream_options_is_absent()
    {
        Assert.Equal("""{"model":"m","stream":true,"stream_options":{"include_usage":true}}""",
            Splice("""{"model":"m","stream":true}""", null, forceIncludeUsage: true));
        Assert.Equal("""{"stream":true,"stream_options":{"include_usage":true}}""",
            Splice("""{"stream":true ,"metadata":{}}""", null, forceIncludeUsage: true));
        Assert.Equal("""{"stream":true,"model":"m","stream_options":{"include_usage":true}}""",
            Splice("""{"stream":true}""", "m", forceIncludeUsage: true));
    }

    [Theory]
    [InlineData("""{"include_usage":false}""", """{"include_usage":true}""")]
    [InlineData("""{"include_usage":false, "x" : [1], "include_usage":null}""", """{"include_usage":true,"x" : [1]}""")]
    [InlineData("""{ }""", """{"include_usage":true}""")]
    [InlineData("""null""", """{"include_usage":true}""")]
    [InlineData("""[1]""", """{"include_usage":true}""")]
    [InlineData("""{"a":{"include_usage":true},"b":"c"}""", """{"include_usage":true,"a":{"include_usage":true},"b":"c"}""")]
    public void Stream_options_without_include_usage_is_rewritten_keeping_its_members(string options, string expected)
    {
        var json = $$"""{"model":"m","stream_options":{{options}},"stream":true,"tags":1}""";
        Assert.Equal($$"""{"model":"x","stream_options":{{expected}},"stream":true}""", Splice(json, "x", forceIncludeUsage: true));
    }

    [Fact]
    public void Stream_options_before_model_is_rewritten_in_order()
    {
        const string json = """{"stream":true,"stream_options":{"include_usage":false},"metadata":1,"model":"m"}""";
        Assert.Equal("""{"stream":true,"stream_options":{"include_usage":true},"model":"x"}""", Splice(json, "x", forceIncludeUsage: true));
    }

    [Theory]
    [InlineData("""{"stream":true,"stream_options":{"include_usage":true}}""", true)]
    [InlineData("""{"stream":false}""", true)]
    [InlineData("""{"model":"m"}""", true)]
    [InlineData("""{"stream":true}""", false)]
    public void Usage_forcing_only_touches_streams_without_include_usage(string json, bool identity)
    {
        Assert.Equal(identity, BodySplicer.IsIdentity(ScanOk(json), Encoding.UTF8.GetBytes(json), null, forceIncludeUsage: true));
        Assert.True(BodySplicer.IsIdentity(ScanOk(json), Encoding.UTF8.GetBytes(json), null, forceIncludeUsage: false));
        Assert.Equal(identity, Splice(json, null, forceIncludeUsage: true) == json);
    }

    [Fact]
    public void Duplicate_stream_members_are_removed_so_upstream_sees_what_we_read()
    {
        const string json = """{"stream":false,"stream_options":{"include_usage":false},"stream":true,"stream_options":{"include_usage":true}}""";
        var scan = ScanOk(json);
        Assert.False(scan.Stream);
        Assert.False(scan.IncludeUsage);
        Assert.Equal(2, scan.StripCount);
        Assert.Equal("""{"stream":false,"stream_options":{"include_usage":false}}""", Splice(json, null));
    }

    [Fact]
    public void Many_separate_strips_take_the_slow_path_and_stay_correct()
    {
        var builder = new StringBuilder("{");
        for (var i = 0; i < 40; i++)
        {
            builder.Append($$"""  "keep{{i}}": {{i}} , "litellm_x{{i}}": [{{i}}],""");
        }

        builder.Append("\"model\":\"m\"}");
        var json = builder.ToString();
        var scan = ScanOk(json);
        Assert.Equal(40, scan.StripCount);
        Assert.True(scan.StripOverflow);
        var output = Splice(json, "n");
        var expected = new StringBuilder("{");
        for (var i = 0; i < 40; i++)
        {
            expected.Append($$"""  "keep{{i}}": {{i}},""");
        }

        expected.Append("\"model\":\"n\"}");
        Assert.Equal(expected.ToString(), output);
    }

    [Fact]
    public void Adjacent_strips_are_merged_into_one_range()
    {
        var builder = new StringBuilder("""{"model":"m" """);
        for (var i = 0; i < 100; i++)
        {
            builder.Append($$""", "litellm_{{i}}":{{i}}""");
        }

        builder.Append('}');
        var scan = ScanOk(builder.ToString());
        Assert.Equal(100, scan.StripCount);
        Assert.False(scan.StripOverflow);
        Assert.Equal("""{"model":"x"}""", Splice(builder.ToString(), "x"));
    }

    [Fact]
    public void Dispose_returns_the_buffer_once()
    {
        var bytes = """{"model":"a"}"""u8.ToArray();
        Assert.Equal(ScanStatus.Ok, RequestScanner.Scan(bytes, out var scan));
        var output = BodySplicer.Splice(bytes, in scan, "b", false);
        Assert.True(output.Array.Length >= output.Length);
        output.Dispose();
        output.Dispose();
        Assert.Equal(0, output.Length);
        Assert.Empty(output.Array);
        Assert.True(output.Span.IsEmpty);
        Assert.True(default(PooledBuffer).Memory.IsEmpty);
        default(PooledBuffer).Dispose();
    }
}
