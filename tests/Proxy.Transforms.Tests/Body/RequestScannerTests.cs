using System.Text;
using Proxy.Transforms.Body;
using static Proxy.Transforms.Tests.Body.BodyTestHelpers;

namespace Proxy.Transforms.Tests.Body;

public sealed class RequestScannerTests
{
    [Fact]
    public void Finds_model_after_messages_and_ignores_nested_model()
    {
        var scan = ScanOk("""{"messages":[{"role":"user","content":"hi","model":"nested"}],"metadata":{"model":"meta"},"model":"qwen3"}""");
        Assert.Equal(ModelKind.String, scan.ModelKind);
        Assert.Equal("qwen3", scan.Model);
    }

    [Fact]
    public void Metadata_session_id_is_read_and_metadata_is_still_stripped()
    {
        const string json = """{"model":"m","metadata":{"tags":["a"],"session_id":"conv-42","nested":{"session_id":"no"}},"messages":[]}""";
        var scan = ScanOk(json);

        Assert.Equal("conv-42", scan.SessionId);
        Assert.Equal(1, scan.StripCount);
        Assert.Equal("""{"model":"m","messages":[]}""", Splice(json, newModel: null));
    }

    [Fact]
    public void Overlong_or_non_string_session_ids_are_ignored()
    {
        Assert.Null(ScanOk($$$"""{"metadata":{"session_id":"{{{new string('x', 257)}}}"}}""").SessionId);
        Assert.Null(ScanOk("""{"metadata":{"session_id":42}}""").SessionId);
        Assert.Null(ScanOk("""{"metadata":"session_id"}""").SessionId);
    }

    [Fact]
    public void Model_range_covers_the_raw_token_including_quotes()
    {
        const string json = """{ "model" :  "qwen\u0033" , "x":1}""";
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.Equal(ScanStatus.Ok, RequestScanner.Scan(bytes, out var scan));
        Assert.Equal("qwen3", scan.Model);
        Assert.Equal("\"qwen\\u0033\"", Encoding.UTF8.GetString(bytes, scan.ModelValueStart, scan.ModelValueLength));
    }

    [Fact]
    public void Duplicate_model_first_wins_and_later_ones_are_stripped()
    {
        var scan = ScanOk("""{"model":"first","model":"second"}""");
        Assert.Equal("first", scan.Model);
        Assert.Equal(1, scan.StripCount);
        Assert.Equal("""{"model":"first"}""", Splice("""{"model":"first","model":"second"}""", newModel: null));
        Assert.Equal("""{"model":"real"}""", Splice("""{"model":"first","model":"second"}""", "real"));
    }

    [Theory]
    [InlineData("""{"model":42}""", "42")]
    [InlineData("""{"model":null}""", "null")]
    [InlineData("""{"model":{"a":[1,2]}}""", """{"a":[1,2]}""")]
    [InlineData("""{"model":true}""", "true")]
    public void Non_string_model_is_NotString_with_its_raw_range(string json, string raw)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.Equal(ScanStatus.Ok, RequestScanner.Scan(bytes, out var scan));
        Assert.Equal(ModelKind.NotString, scan.ModelKind);
        Assert.Null(scan.Model);
        Assert.Equal(raw, Encoding.UTF8.GetString(bytes, scan.ModelValueStart, scan.ModelValueLength));
    }

    [Fact]
    public void Missing_model_is_Missing()
    {
        var scan = ScanOk("""{"messages":[]}""");
        Assert.Equal(ModelKind.Missing, scan.ModelKind);
        Assert.Null(scan.Model);
    }

    [Theory]
    [InlineData("""{"stream":true}""", true)]
    [InlineData("""{"stream":false}""", false)]
    [InlineData("""{"stream":"true"}""", false)]
    [InlineData("""{"stream":{"a":true}}""", false)]
    [InlineData("""{"messages":[{"stream":true}]}""", false)]
    public void Stream_is_only_a_top_level_json_true(string json, bool expected) =>
        Assert.Equal(expected, ScanOk(json).Stream);

    [Fact]
    public void Stream_options_include_usage_and_range()
    {
        const string json = """{"stream":true,"stream_options": {"include_usage":true, "x":1} ,"model":"m"}""";
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.Equal(ScanStatus.Ok, RequestScanner.Scan(bytes, out var scan));
        Assert.True(scan.HasStreamOptions);
        Assert.True(scan.IncludeUsage);
        Assert.Equal("""{"include_usage":true, "x":1}""", Encoding.UTF8.GetString(bytes, scan.StreamOptionsValueStart, scan.StreamOptionsValueLength));
        Assert.Equal("m", scan.Model);
    }

    [Theory]
    [InlineData("""{"stream_options":{"include_usage":false}}""", true, false)]
    [InlineData("""{"stream_options":{}}""", true, false)]
    [InlineData("""{"stream_options":null}""", true, false)]
    [InlineData("""{"stream_options":{"nested":{"include_usage":true}}}""", true, false)]
    [InlineData("""{"stream_options":{"include_usage":true,"include_usage":false}}""", true, false)]
    [InlineData("""{"stream_options":{"include_\u0075sage":true}}""", true, true)]
    [InlineData("""{"include_usage":true}""", false, false)]
    public void Include_usage_needs_a_direct_true_member(string json, bool hasOptions, bool includeUsage)
    {
        var scan = ScanOk(json);
        Assert.Equal(hasOptions, scan.HasStreamOptions);
        Assert.Equal(includeUsage, scan.IncludeUsage);
    }

    [Theory]
    [InlineData("[1,{\"include_usage\":true}]")]
    [InlineData("\"include_usage\"")]
    [InlineData("true")]
    public void Non_object_stream_options_is_skipped_whole(string options)
    {
        var json = $$"""{"stream_options":{{options}},"model":"m","tags":1}""";
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.Equal(ScanStatus.Ok, RequestScanner.Scan(bytes, out var scan));
        Assert.False(scan.IncludeUsage);
        Assert.Equal(options, Encoding.UTF8.GetString(bytes, scan.StreamOptionsValueStart, scan.StreamOptionsValueLength));
        Assert.Equal("m", scan.Model);
        Assert.Equal(1, scan.StripCount);
    }

    [Fact]
    public void Mock_response_string_is_decoded_and_stripped()
    {
        var scan = ScanOk("""{"model":"m","mock_response":"hi \"there\""}""");
        Assert.Equal("hi \"there\"", scan.MockResponse);
        Assert.Equal(1, scan.StripCount);
        Assert.Null(ScanOk("""{"mock_response":{"a":1}}""").MockResponse);
    }

    [Theory]
    [InlineData("mock_testing_fallbacks", MockFlags.TestingFallbacks)]
    [InlineData("mock_testing_rate_limit_error", MockFlags.TestingRateLimitError)]
    [InlineData("mock_testing_context_window_fallback", MockFlags.TestingContextWindowFallbacks)]
    [InlineData("mock_testing_context_fallbacks", MockFlags.TestingContextWindowFallbacks)]
    [InlineData("mock_testing_context_window_fallbacks", MockFlags.TestingContextWindowFallbacks)]
    [InlineData("mock_testing_content_policy_fallbacks", MockFlags.TestingContentPolicyFallbacks)]
    [InlineData("mock_timeout", MockFlags.Timeout)]
    public void Mock_flags_accept_true_and_true_strings(string name, MockFlags flag)
    {
        Assert.Equal(flag, ScanOk($$"""{"{{name}}":true}""").MockFlags);
        Assert.Equal(flag, ScanOk($$"""{"{{name}}":"true"}""").MockFlags);
        Assert.Equal(flag, ScanOk($$"""{"{{name}}":"True"}""").MockFlags);
        Assert.Equal(MockFlags.None, ScanOk($$"""{"{{name}}":false}""").MockFlags);
        Assert.Equal(MockFlags.None, ScanOk($$"""{"{{name}}":"yes"}""").MockFlags);
        Assert.Equal(MockFlags.None, ScanOk($$"""{"{{name}}":1}""").MockFlags);
        Assert.Equal(1, ScanOk($$"""{"{{name}}":false}""").StripCount);
    }

    [Fact]
    public void Mock_flags_combine()
    {
        var scan = ScanOk("""{"mock_testing_fallbacks":true,"mock_timeout":"True","mock_testing_unknown":true}""");
        Assert.Equal(MockFlags.TestingFallbacks | MockFlags.Timeout, scan.MockFlags);
        Assert.Equal(3, scan.StripCount);
    }

    [Theory]
    [InlineData("""{"timeout":12.5}""", 12.5)]
    [InlineData("""{"request_timeout":30}""", 30.0)]
    [InlineData("""{"timeout":5,"request_timeout":30}""", 5.0)]
    [InlineData("""{"timeout":"30"}""", null)]
    public void Timeout_reads_numbers(string json, double? expected) =>
        Assert.Equal(expected, ScanOk(json).TimeoutSeconds);

    [Theory]
    [InlineData("""{"num_retries":3}""", 3)]
    [InlineData("""{"num_retries":2.5}""", null)]
    [InlineData("""{"num_retries":"3"}""", null)]
    public void Num_retries_reads_integers(string json, int? expected) =>
        Assert.Equal(expected, ScanOk(json).NumRetries);

    [Theory]
    [InlineData("""{"disable_fallbacks":true}""", true)]
    [InlineData("""{"disable_fallbacks":false}""", false)]
    [InlineData("""{"disable_fallbacks":"true"}""", false)]
    public void Disable_fallbacks_is_json_true(string json, bool expected) =>
        Assert.Equal(expected, ScanOk(json).DisableFallbacks);

    [Theory]
    [InlineData("mock_response")]
    [InlineData("mock_testing_anything")]
    [InlineData("mock_timeout")]
    [InlineData("mock_tool_calls")]
    [InlineData("cache")]
    [InlineData("caching")]
    [InlineData("no-log")]
    [InlineData("guardrails")]
    [InlineData("metadata")]
    [InlineData("litellm_metadata")]
    [InlineData("litellm_call_id")]
    [InlineData("litellm_")]
    [InlineData("fallbacks")]
    [InlineData("context_window_fallbacks")]
    [InlineData("content_policy_fallbacks")]
    [InlineData("disable_fallbacks")]
    [InlineData("num_retries")]
    [InlineData("timeout")]
    [InlineData("request_timeout")]
    [InlineData("api_key")]
    [InlineData("api_base")]
    [InlineData("base_url")]
    [InlineData("api_version")]
    [InlineData("user_api_key")]
    [InlineData("user_api_key_alias")]
    [InlineData("tags")]
    [InlineData("drop_params")]
    [InlineData("model_list")]
    [InlineData("proxy_server_request")]
    [InlineData("secret_fields")]
    public void LiteLlm_only_members_are_stripped(string name)
    {
        var json = $$"""{"model":"m","{{name}}":{"k":[1,2]},"n":1}""";
        Assert.Equal(1, ScanOk(json).StripCount);
        Assert.Equal("""{"model":"m","n":1}""", Splice(json, newModel: null));
    }

    [Theory]
    [InlineData("messages")]
    [InlineData("temperature")]
    [InlineData("tools")]
    [InlineData("user")]
    [InlineData("max_tokens")]
    [InlineData("models")]
    [InlineData("mock")]
    [InlineData("litellm")]
    [InlineData("user_api_keys")]
    [InlineData("api_keys")]
    [InlineData("Metadata")]
    public void Ordinary_members_are_kept(string name) =>
        Assert.Equal(0, ScanOk($$"""{"{{name}}":1}""").StripCount);

    [Fact]
    public void Escaped_member_names_are_matched_after_unescaping()
    {
        Assert.Equal("qwen3", ScanOk("""{"mod\u0065l":"qwen3"}""").Model);
        Assert.Equal(1, ScanOk("""{"api_\u006bey":"sk-secret"}""").StripCount);
        var longName = "litellm_" + string.Concat(Enumerable.Repeat("\\u0061", 100));
        Assert.Equal(1, ScanOk($$"""{"{{longName}}":1}""").StripCount);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("{")]
    [InlineData("""{"model":"qwen3" """)]
    [InlineData("""{"model":"qwen3",}""")]
    [InlineData("""{"model":"qwen3"}}""")]
    [InlineData("""{"model":"qwen3"} x""")]
    [InlineData("""{"model":"qwen3"}{}""")]
    [InlineData("""{"model":"qwen3" /* c */}""")]
    [InlineData("""{"messages":[1,2,],"model":"m"}""")]
    [InlineData("""{"messages":[{"a":}],"model":"m"}""")]
    [InlineData("""{'model':'m'}""")]
    [InlineData("""{"model":"m","stream_options":{"include_usage":tru}}""")]
    [InlineData("[1,")]
    [InlineData("nul")]
    public void Invalid_json_is_InvalidJson(string json) =>
        Assert.Equal(ScanStatus.InvalidJson, RequestScanner.Scan(Encoding.UTF8.GetBytes(json), out _));

    [Fact]
    public void Invalid_utf8_in_model_is_InvalidJson()
    {
        byte[] body = [.. "{\"model\":\"q"u8, 0xFF, 0xFE, .. "\"}"u8];
        Assert.Equal(ScanStatus.InvalidJson, RequestScanner.Scan(body, out var scan));
        Assert.Null(scan.Model);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("""[{"model":"m"}]""")]
    [InlineData("\"model\"")]
    [InlineData("42")]
    [InlineData("null")]
    public void Top_level_non_object_is_NotAnObject(string json) =>
        Assert.Equal(ScanStatus.NotAnObject, RequestScanner.Scan(Encoding.UTF8.GetBytes(json), out _));

    [Fact]
    public void Depth_overflow_is_InvalidJson_not_an_exception()
    {
        var deep = "{\"messages\":" + new string('[', 300) + new string(']', 300) + ",\"model\":\"m\"}";
        Assert.Equal(ScanStatus.InvalidJson, RequestScanner.Scan(Encoding.UTF8.GetBytes(deep), out _));
        var ok = "{\"messages\":" + new string('[', 200) + new string(']', 200) + ",\"model\":\"m\"}";
        Assert.Equal("m", ScanOk(ok).Model);
    }

    [Fact]
    public void Failed_scan_leaves_a_default_result()
    {
        Assert.Equal(ScanStatus.InvalidJson, RequestScanner.Scan("""{"model":"m","x":[}"""u8, out var scan));
        Assert.Equal(ModelKind.Missing, scan.ModelKind);
        Assert.Null(scan.Model);
        Assert.Throws<ArgumentException>(() => BodySplicer.Splice("""{"model":"m","x":[}"""u8, in scan, "n", false).Dispose());
    }

    [Fact]
    public void Scan_never_throws_on_mutated_bodies()
    {
        var source = Encoding.UTF8.GetBytes(
            """{"messages":[{"role":"user","content":"h\u00e9llo \"q\" \n"}],"model":"qw\u0065n","stream":true,"stream_options":{"include_usage":false,"x":[1,{"y":null}]},"metadata":{"a":1},"timeout":1e2,"mock_testing_fallbacks":"True","num_retries":3}""");
        var random = new Random(1234);
        for (var i = 0; i < 5000; i++)
        {
            var mutated = Mutate(source, random);
            var status = RequestScanner.Scan(mutated, out var scan);
            if (status == ScanStatus.Ok)
            {
                using var output = BodySplicer.Splice(mutated, in scan, "new\"model", forceIncludeUsage: true);
                using var document = System.Text.Json.JsonDocument.Parse(output.Memory);
                Assert.Equal(System.Text.Json.JsonValueKind.Object, document.RootElement.ValueKind);
            }
        }
    }

    private static ReadOnlySpan<byte> Alphabet => "{}[],:\"\\ 0tfn"u8;

    private static byte[] Mutate(byte[] source, Random random)
    {
        var bytes = (byte[])source.Clone();
        switch (random.Next(4))
        {
            case 0:
                return bytes[..random.Next(bytes.Length)];
            case 1:
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                return bytes;
            case 2:
                bytes[random.Next(bytes.Length)] = Alphabet[random.Next(Alphabet.Length)];
                return bytes;
            default:
                var at = random.Next(bytes.Length);
                return [.. bytes[..at], .. " \n,\"{"u8.Slice(random.Next(5), 1), .. bytes[at..]];
        }
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"a"}],"messages":[{"role":"user","content":"b"}]}""")]
    [InlineData("""{"prompt":"a","model":"m","prompt":"b"}""")]
    [InlineData("""{"model":"m","input":"a","input":["b"]}""")]
    [InlineData("""{"model":"m","messages":[],"mess\u0061ges":[]}""")]
    public void Scan_DuplicatePromptMember_IsRefused(string body) =>
        Assert.Equal(ScanStatus.DuplicatePrompt, RequestScanner.Scan(System.Text.Encoding.UTF8.GetBytes(body), out _));

    [Fact]
    public void Scan_DifferentPromptMembers_AreFine() =>
        Assert.Equal(ScanStatus.Ok, RequestScanner.Scan("""{"model":"m","messages":[],"prompt":"a","input":"b"}"""u8, out _));
}
