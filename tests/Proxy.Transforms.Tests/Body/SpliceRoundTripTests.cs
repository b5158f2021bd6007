using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Proxy.Transforms.Body;

namespace Proxy.Transforms.Tests.Body;

/// <summary>
/// Random bodies (fields present or not, random order and whitespace) must splice to exactly what a naive
/// JsonNode transformation produces. The strip list is written out again here on purpose, independently of
/// MemberNames.
/// </summary>
public sealed class SpliceRoundTripTests
{
    private static readonly string[] StripNames =
    [
        "mock_response", "mock_testing_fallbacks", "mock_testing_rate_limit_error", "mock_testing_context_window_fallback",
        "mock_testing_context_fallbacks", "mock_testing_context_window_fallbacks", "mock_testing_content_policy_fallbacks",
        "mock_testing_other", "mock_timeout", "mock_tool_calls", "cache", "caching", "no-log", "guardrails", "metadata",
        "litellm_metadata", "litellm_trace_id", "fallbacks", "context_window_fallbacks", "content_policy_fallbacks",
        "disable_fallbacks", "num_retries", "timeout", "request_timeout", "api_key", "api_base", "base_url", "api_version",
        "user_api_key", "user_api_key_hash", "tags", "drop_params", "model_list", "proxy_server_request", "secret_fields",
    ];

    private static readonly string[] KeepNames =
    [
        "messages", "temperature", "max_tokens", "tools", "tool_choice", "top_p", "n", "user", "seed", "response_format",
        "presence_penalty", "logprobs", "models", "litellm", "Metadata", "mock", "stream_option",
    ];

    [Fact]
    public void Random_bodies_splice_like_a_json_node_transformation()
    {
        var random = new Random(20261127);
        for (var i = 0; i < 500; i++)
        {
            var source = RandomBody(random);
            var text = Emit(source, random);
            var newModel = random.Next(4) switch
            {
                0 => null,
                1 => "Qwen/Qwen3-8B",
                2 => "q\"uo\\te ü 🦙",
                _ => source["model"] is JsonValue value && value.TryGetValue<string>(out var same) ? same : "other",
            };
            var force = random.Next(2) == 0;

            var bytes = Encoding.UTF8.GetBytes(text);
            Assert.Equal(ScanStatus.Ok, RequestScanner.Scan(bytes, out var scan));
            AssertScanMatches(source, scan);

            using var output = BodySplicer.Splice(bytes, in scan, newModel, force);
            var actual = Encoding.UTF8.GetString(output.Span);
            var expected = Expected(source, newModel, force);
            Assert.True(
                BodyTestHelpers.Normalize(expected) == BodyTestHelpers.Normalize(actual),
                $"case {i}\ninput:    {text}\nexpected: {expected}\nactual:   {actual}");
            Assert.Equal(BodySplicer.IsIdentity(in scan, bytes, newModel, force), actual == text);
        }
    }

    private static void AssertScanMatches(JsonObject source, RequestScan scan)
    {
        var model = source["model"];
        var expectedKind = model is null && !source.ContainsKey("model") ? ModelKind.Missing
            : model is JsonValue v && v.GetValueKind() == JsonValueKind.String ? ModelKind.String : ModelKind.NotString;
        Assert.Equal(expectedKind, scan.ModelKind);
        if (expectedKind == ModelKind.String)
        {
            Assert.Equal(model!.GetValue<string>(), scan.Model);
        }

        Assert.Equal(source["stream"]?.GetValueKind() == JsonValueKind.True, scan.Stream);
        Assert.Equal(source.ContainsKey("stream_options"), scan.HasStreamOptions);
        Assert.Equal(IncludesUsage(source), scan.IncludeUsage);
        Assert.Equal(source.Count(p => IsStripped(p.Key)), scan.StripCount);
    }

    private static bool IncludesUsage(JsonObject source) =>
        source["stream_options"] is JsonObject options && options["include_usage"]?.GetValueKind() == JsonValueKind.True;

    private static bool IsStripped(string name) => Array.IndexOf(StripNames, name) >= 0;

    private static string Expected(JsonObject source, string? newModel, bool force)
    {
        var result = new JsonObject();
        foreach (var (name, value) in source)
        {
            if (!IsStripped(name))
            {
                result[name] = value?.DeepClone();
            }
        }

        var keepClientModel = source["model"] is JsonValue current && current.GetValueKind() == JsonValueKind.String
            && current.GetValue<string>() == newModel;
        if (newModel is not null && !keepClientModel)
        {
            result["model"] = newModel;
        }

        if (force && source["stream"]?.GetValueKind() == JsonValueKind.True && !IncludesUsage(source))
        {
            var options = new JsonObject { ["include_usage"] = true };
            if (source["stream_options"] is JsonObject old)
            {
                foreach (var (name, value) in old)
                {
                    if (name != "include_usage")
                    {
                        options[name] = value?.DeepClone();
                    }
                }
            }

            result["stream_options"] = options;
        }

        return result.ToJsonString();
    }

    private static JsonObject RandomBody(Random random)
    {
        var members = new List<KeyValuePair<string, JsonNode?>>();
        void Maybe(string name, Func<JsonNode?> value)
        {
            if (random.Next(3) == 0)
            {
                members.Add(new(name, value()));
            }
        }

        if (random.Next(5) != 0)
        {
            members.Add(new("model", random.Next(6) switch
            {
                0 => JsonValue.Create(42),
                1 => null,
                2 => JsonValue.Create("qwé\"n\\3 🦙"),
                _ => JsonValue.Create("qwen3"),
            }));
        }

        members.Add(new("messages", new JsonArray(
            new JsonObject { ["role"] = "user", ["content"] = "hi \"there\"\n", ["model"] = "decoy", ["stream"] = true },
            new JsonObject { ["role"] = "assistant", ["content"] = new string('x', random.Next(200)) })));
        Maybe("stream", () => JsonValue.Create(random.Next(3) != 0));
        Maybe("stream_options", () => random.Next(4) switch
        {
            0 => null,
            1 => new JsonObject { ["include_usage"] = random.Next(2) == 0 },
            2 => new JsonObject { ["x"] = 1, ["include_usage"] = random.Next(2) == 0, ["y"] = new JsonArray(1, 2) },
            _ => new JsonObject(),
        });
        foreach (var name in KeepNames.Skip(1))
        {
            Maybe(name, () => RandomValue(random, 2));
        }

        foreach (var name in StripNames)
        {
            if (random.Next(8) == 0)
            {
                members.Add(new(name, RandomValue(random, 2)));
            }
        }

        var shuffled = members.OrderBy(_ => random.Next()).ToList();
        return new JsonObject(shuffled);
    }

    private static JsonNode? RandomValue(Random random, int depth) => random.Next(depth > 0 ? 7 : 5) switch
    {
        0 => null,
        1 => JsonValue.Create(random.Next(2) == 0),
        2 => JsonValue.Create(random.NextDouble() * 100),
        3 => JsonValue.Create("s\u00e9 \"q\" " + random.Next()),
        4 => JsonValue.Create(random.Next(-5, 5)),
        5 => new JsonArray(RandomValue(random, depth - 1), RandomValue(random, depth - 1)),
        _ => new JsonObject { ["a"] = RandomValue(random, depth - 1), ["model"] = "nested" },
    };

    /// <summary>Serialises with random whitespace between every pair of tokens.</summary>
    private static string Emit(JsonNode? node, Random random)
    {
        var builder = new StringBuilder();
        Write(node, builder, random);
        return Space(random) + builder + Space(random);
    }

    private static void Write(JsonNode? node, StringBuilder builder, Random random)
    {
        switch (node)
        {
            case JsonObject obj:
                builder.Append('{').Append(Space(random));
                var first = true;
                foreach (var (name, value) in obj)
                {
                    if (!first)
                    {
                        builder.Append(Space(random)).Append(',').Append(Space(random));
                    }

                    first = false;
                    builder.Append(JsonValue.Create(name).ToJsonString()).Append(Space(random)).Append(':').Append(Space(random));
                    Write(value, builder, random);
                }

                builder.Append(Space(random)).Append('}');
                break;
            case JsonArray array:
                builder.Append('[').Append(Space(random));
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(',').Append(Space(random));
                    }

                    Write(array[i], builder, random);
                }

                builder.Append(Space(random)).Append(']');
                break;
            case null:
                builder.Append("null");
                break;
            default:
                builder.Append(node.ToJsonString());
                break;
        }
    }

    private static string Space(Random random) => random.Next(4) switch
    {
        0 => " ",
        1 => "\n  ",
        2 => "\t\r\n",
        _ => string.Empty,
    };

    [Fact]
    public void Double_values_keep_their_raw_text()
    {
        const string json = """{"temperature":0.10000000000000000555,"n":1E+2,"model":"m"}""";
        Assert.Equal("""{"temperature":0.10000000000000000555,"n":1E+2,"model":"x"}""", BodyTestHelpers.Splice(json, "x"));
    }
}
