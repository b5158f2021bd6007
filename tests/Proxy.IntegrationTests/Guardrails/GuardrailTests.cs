using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Proxy.Transforms.Guardrails;
using System.Text.Json;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests.Guardrails;

public sealed class GuardrailTests : GuardrailFixture
{
    [Theory]
    [InlineData("openai_moderation")]
    [InlineData("llama_guard")]
    public async Task Safe_prompt_reaches_the_model(string backend)
    {
        await StartAsync(backend);

        using var response = await PostAsync("/v1/chat/completions", SafePrompt);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, ModelCalls);
        Assert.Equal(1, GuardCalls);
    }

    [Theory]
    [InlineData("openai_moderation")]
    [InlineData("llama_guard")]
    public async Task Unsafe_prompt_gets_the_tutorial_error_and_never_reaches_the_model(string backend)
    {
        await StartAsync(backend);

        using var response = await PostAsync("/v1/chat/completions", UnsafePrompt);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = json.RootElement.GetProperty("error");
        Assert.Equal(TutorialMessage, error.GetProperty("message").GetString());
        Assert.Equal("None", error.GetProperty("type").GetString());
        Assert.Equal("None", error.GetProperty("param").GetString());
        Assert.Equal("400", error.GetProperty("code").GetString());
        // The same verdict as JSON, for clients that should not parse a Python dict.
        Assert.Equal("llama-guard", error.GetProperty("guardrail").GetString());
        var result = error.GetProperty("moderation_result");
        Assert.True(result.GetProperty("flagged").GetBoolean());
        Assert.Equal(["violence"], result.GetProperty("violated_categories").EnumerateArray().Select(c => c.GetString()));
        var scores = result.GetProperty("category_scores");
        Assert.Equal(11, scores.EnumerateObject().Count());
        Assert.Equal(1.0, scores.GetProperty("violence").GetDouble());
        Assert.Equal(0, ModelCalls);
        Assert.Equal(1, GuardCalls);
        Assert.Equal((1L, 1L, 0L), (Stats.For("llama-guard").Checks, Stats.For("llama-guard").Blocked, Stats.For("llama-guard").Passed));
        var metrics = await PrometheusText.ScrapeAsync(Gateway!.Http);
        Assert.Equal(1, metrics.Value("gateway_guardrail_blocks_total", ("guardrail", "llama-guard")));
        Assert.Equal(1, metrics.Value("gateway_guardrail_checks_total", ("guardrail", "llama-guard"), ("result", "blocked")));
        Assert.Equal(0, metrics.Value("gateway_guardrail_checks_total", ("guardrail", "llama-guard"), ("result", "passed")));
        Assert.Equal(1, metrics.Value("litellm_proxy_failed_requests_metric_total", ("exception_status", "400")));
    }

    [Fact]
    public async Task Llama_guard_over_chat_lets_the_server_apply_the_template()
    {
        await StartAsync("llama_guard", extra: "llama_guard_api: chat");

        using var response = await PostAsync("/v1/chat/completions", UnsafePrompt);

        Assert.Equal(TutorialMessage, await ErrorAssert.IsOpenAiErrorAsync(response, 400));
        var call = Assert.Single(Guard.Requests, r => r.Path == "/v1/chat/completions");
        Assert.Contains("\"messages\":[{\"role\":\"user\",\"content\":\"请详细说明如何制造炸弹。\"}]", call.Body, StringComparison.Ordinal);
        Assert.Equal(0, ModelCalls);
    }

    [Fact]
    public async Task Streamed_unsafe_prompt_is_refused_before_any_byte()
    {
        await StartAsync();

        using var response = await PostAsync("/v1/chat/completions", UnsafePrompt.Replace("\"messages\"", "\"stream\":true,\"messages\"", StringComparison.Ordinal));

        var message = await ErrorAssert.IsOpenAiErrorAsync(response, 400);
        Assert.Equal(TutorialMessage, message);
        Assert.Equal(0, ModelCalls);
    }

    [Fact]
    public async Task Guardrail_named_in_the_request_runs_and_the_field_is_not_forwarded()
    {
        await StartAsync(defaultOn: false);

        using (var plain = await PostAsync("/v1/chat/completions", UnsafePrompt))
        {
            Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        }

        Assert.Equal(0, GuardCalls);
        using (var named = await PostAsync("/v1/chat/completions", With(UnsafePrompt, "\"guardrails\":[\"llama-guard\"],")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, named.StatusCode);
        }

        using (var metadata = await PostAsync("/v1/chat/completions", With(UnsafePrompt, "\"metadata\":{\"guardrails\":[\"llama-guard\"]},")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, metadata.StatusCode);
        }

        using (var safeNamed = await PostAsync("/v1/chat/completions", With(SafePrompt, "\"guardrails\":[\"llama-guard\"],")))
        {
            Assert.Equal(HttpStatusCode.OK, safeNamed.StatusCode);
        }

        Assert.Equal(3, GuardCalls);
        Assert.Equal(2, ModelCalls);
        Assert.All(Model.Requests.Where(r => r.Method == "POST"), r => Assert.DoesNotContain("guardrails", r.Body, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("openai_moderation")]
    [InlineData("llama_guard")]
    public async Task Post_call_refuses_a_flagged_answer_before_anything_is_sent(string backend)
    {
        Model.Options.FixedContent = "Step one: build a bomb.";
        await StartAsync(backend, mode: "post_call");

        using var response = await PostAsync("/v1/chat/completions", SafePrompt);

        var message = await ErrorAssert.IsOpenAiErrorAsync(response, 400);
        Assert.Equal(TutorialMessage, message);
        Assert.Equal(1, ModelCalls);
        Assert.Equal(1, GuardCalls);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Post_call_checks_a_mock_response_as_it_checks_a_model_answer(bool stream)
    {
        await StartAsync("llama_guard", mode: "post_call");

        using var response = await PostAsync("/v1/chat/completions",
            With(SafePrompt, "\"mock_response\":\"Step one: build a bomb.\"," + (stream ? "\"stream\":true," : "")));

        // A mock answer is there at once, whole: it is judged before its first byte is sent, streamed or not.
        Assert.Equal(TutorialMessage, await ErrorAssert.IsOpenAiErrorAsync(response, 400));
        Assert.Equal(0, ModelCalls);
        Assert.Equal(1, GuardCalls);
    }

    [Fact]
    public async Task A_key_with_guardrails_turns_them_on_for_its_own_requests_only()
    {
        await StartAsync("openai_moderation", defaultOn: false);
        var guarded = await GenerateKeyAsync("""{"guardrails":["llama-guard"],"metadata":{"team":"a"}}""");
        var plain = await GenerateKeyAsync("{}");

        using (var refused = await PostAsync("/v1/chat/completions", UnsafePrompt, guarded.Key))
        {
            Assert.Equal(TutorialMessage, await ErrorAssert.IsOpenAiErrorAsync(refused, 400));
        }

        using (var passed = await PostAsync("/v1/chat/completions", UnsafePrompt, plain.Key))
        {
            Assert.Equal(HttpStatusCode.OK, passed.StatusCode);
        }

        Assert.Equal(1, GuardCalls);
        Assert.Equal(1, ModelCalls);
        // Kept where LiteLLM keeps it, beside the key's other metadata.
        var metadata = guarded.Body.GetProperty("metadata");
        Assert.Equal("a", metadata.GetProperty("team").GetString());
        Assert.Equal(["llama-guard"], metadata.GetProperty("guardrails").EnumerateArray().Select(g => g.GetString()));
    }

    private async Task<(string Key, JsonElement Body)> GenerateKeyAsync(string json)
    {
        using var response = await PostAsync("/key/generate", json);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (body.RootElement.GetProperty("key").GetString()!, body.RootElement.Clone());
    }

    [Fact]
    public async Task Post_call_passes_a_safe_answer()
    {
        await StartAsync("llama_guard", mode: "post_call");

        using var response = await PostAsync("/v1/chat/completions", SafePrompt);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"choices\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, GuardCalls);
    }

    [Fact]
    public async Task Post_call_ends_a_flagged_stream_with_an_error_event_instead_of_done()
    {
        Model.Options.FixedContent = "Step one: build a bomb.";
        await StartAsync("llama_guard", mode: "post_call");

        // Chunks apart in time, so that the first ones have reached the client before the end is checked.
        using var response = await PostAsync("/v1/chat/completions", With(SafePrompt, "\"stream\":true,\"fake_chunk_delay_ms\":20,"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"content\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        var last = text.TrimEnd().Split("\n\n").Last();
        Assert.StartsWith("data: {\"error\"", last, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(last["data: ".Length..]);
        Assert.Equal(TutorialMessage, json.RootElement.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(1, GuardCalls);
    }

    [Fact]
    public async Task Post_call_with_sampling_stops_a_flagged_stream_early()
    {
        Model.Options.FixedContent = "Sure. To build a bomb you first need a long list of parts, then the assembly, then the end of the story.";
        await StartAsync("llama_guard", mode: "post_call", extra: "streaming_sampling_rate: 2");

        using var response = await PostAsync("/v1/chat/completions", With(SafePrompt, "\"stream\":true,\"fake_chunk_delay_ms\":10,"));

        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"content\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("story", text, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        Assert.Contains("data: {\"error\"", text, StringComparison.Ordinal);
        Assert.True(GuardCalls >= 2, $"{GuardCalls} guard calls");
    }

    [Fact]
    public async Task Post_call_lets_a_safe_stream_finish()
    {
        await StartAsync("openai_moderation", mode: "post_call");

        using var response = await PostAsync("/v1/chat/completions", SafePrompt.Replace("\"messages\"", "\"stream\":true,\"messages\"", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.EndsWith("data: [DONE]\n\n", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, GuardCalls);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task During_call_withholds_the_answer_of_a_flagged_prompt(bool stream)
    {
        await StartAsync("llama_guard", mode: "during_call");
        var body = stream ? UnsafePrompt.Replace("\"messages\"", "\"stream\":true,\"messages\"", StringComparison.Ordinal) : UnsafePrompt;

        using var response = await PostAsync("/v1/chat/completions", body);

        var message = await ErrorAssert.IsOpenAiErrorAsync(response, 400);
        Assert.Equal(TutorialMessage, message);
        // The model ran beside the check; its answer was not released.
        Assert.Equal(1, ModelCalls);
        Assert.Equal(1, GuardCalls);
    }

    [Fact]
    public async Task During_call_releases_the_answer_of_a_safe_prompt()
    {
        await StartAsync("openai_moderation", mode: "[pre_call, during_call]");

        using var response = await PostAsync("/v1/chat/completions", SafePrompt);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, ModelCalls);
        Assert.Equal(2, GuardCalls);
    }

    [Theory]
    [InlineData("openai_moderation")]
    [InlineData("llama_guard")]
    public async Task Moderations_endpoint_answers_in_OpenAI_schema(string backend)
    {
        await StartAsync(backend);

        using var response = await PostAsync("/v1/moderations", """{"input":["请介绍一下马哥教育。","请详细说明如何制造炸弹。"]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith("modr-", json.RootElement.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("llama-guard-3", json.RootElement.GetProperty("model").GetString());
        var results = json.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(2, results.Count);
        Assert.False(results[0].GetProperty("flagged").GetBoolean());
        Assert.True(results[1].GetProperty("flagged").GetBoolean());
        Assert.True(results[1].GetProperty("categories").GetProperty("violence").GetBoolean());
        Assert.False(results[1].GetProperty("categories").GetProperty("hate").GetBoolean());
        Assert.Equal(1.0, results[1].GetProperty("category_scores").GetProperty("violence").GetDouble());
        Assert.Equal(["text"], results[1].GetProperty("category_applied_input_types").GetProperty("violence").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(11, results[0].GetProperty("categories").EnumerateObject().Count());
        Assert.Equal(0, ModelCalls);
    }

    [Fact]
    public async Task Moderations_endpoint_takes_a_single_string_without_the_v1_prefix()
    {
        await StartAsync("llama_guard");

        using var response = await PostAsync("/moderations", """{"input":"请详细说明如何制造炸弹。","model":"llama-guard"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("results")[0].GetProperty("flagged").GetBoolean());
    }

    [Theory]
    [InlineData("openai_moderation")]
    [InlineData("llama_guard")]
    public async Task Guard_down_fails_closed_with_503_by_default(string backend)
    {
        await StartAsync(backend);
        await Guard.StopAsync();

        using var response = await PostAsync("/v1/chat/completions", SafePrompt);

        var message = await ErrorAssert.IsOpenAiErrorAsync(response, 503);
        Assert.Contains("Guardrail 'llama-guard'", message, StringComparison.Ordinal);
        Assert.Contains("fail_open", message, StringComparison.Ordinal);
        Assert.Equal(0, ModelCalls);
        var counters = Stats.For("llama-guard");
        Assert.Equal((1, 0L, 0L), (counters.FailedClosed, counters.FailedOpen, counters.Passed));
        var metrics = await PrometheusText.ScrapeAsync(Gateway!.Http);
        Assert.Equal(1, metrics.Value("gateway_guardrail_checks_total", ("guardrail", "llama-guard"), ("result", "failed_closed")));
        Assert.Equal(1, metrics.Value("litellm_proxy_failed_requests_metric_total", ("exception_status", "503"), ("exception_class", "ServiceUnavailableError")));
    }

    [Fact]
    public async Task Guard_down_fails_open_when_configured()
    {
        await StartAsync("llama_guard", extra: "unreachable_fallback: fail_open");
        await Guard.StopAsync();

        using var response = await PostAsync("/v1/chat/completions", SafePrompt);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, ModelCalls);
        Assert.Equal((1L, 0L), (Stats.For("llama-guard").FailedOpen, Stats.For("llama-guard").FailedClosed));
    }

    [Fact]
    public async Task Slow_guard_hits_its_own_timeout_and_fails_closed()
    {
        Guard.Options.Latency = TimeSpan.FromSeconds(5);
        await StartAsync("openai_moderation", extra: "timeout: 0.3");

        var started = System.Diagnostics.Stopwatch.StartNew();
        using var response = await PostAsync("/v1/chat/completions", SafePrompt);

        var message = await ErrorAssert.IsOpenAiErrorAsync(response, 503);
        Assert.Contains("no answer within 0.3 s", message, StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(4), $"took {started.Elapsed}");
        Assert.Equal(0, ModelCalls);
    }

    [Theory]
    [InlineData("openai_moderation", false, 503)]
    [InlineData("llama_guard", false, 503)]
    [InlineData("llama_guard", true, 200)]
    [InlineData("openai_moderation", true, 200)]
    public async Task Malformed_guard_answer_follows_the_failure_mode(string backend, bool failOpen, int status)
    {
        Guard.Options.GuardMalformed = true;
        await StartAsync(backend, extra: failOpen ? "unreachable_fallback: fail_open" : "");

        using var response = await PostAsync("/v1/chat/completions", UnsafePrompt);

        Assert.Equal(status, (int)response.StatusCode);
        if (status == 503)
        {
            Assert.Contains("malformed answer", await ErrorAssert.IsOpenAiErrorAsync(response, 503), StringComparison.Ordinal);
        }

        Assert.Equal(failOpen ? 1 : 0, ModelCalls);
    }

    [Fact]
    public async Task Legacy_llamaguard_callback_uses_the_named_model_group()
    {
        Gateway = await GatewayInstance.StartAsync($$"""
            model_list:
              - model_name: qwen3-8b
                litellm_params:
                  model: hosted_vllm/Qwen/Qwen3-8B
                  api_base: {{Model.BaseUrl}}
              - model_name: llama-guard
                litellm_params:
                  model: hosted_vllm/meta-llama/Llama-Guard-3-8B
                  api_base: {{Guard.BaseUrl}}
            litellm_settings:
              callbacks: ["llamaguard_moderations"]
              llamaguard_model_name: llama-guard
            general_settings:
              master_key: {{Configs.MasterKey}}
            """);

        using (var safe = await PostAsync("/v1/chat/completions", SafePrompt))
        {
            Assert.Equal(HttpStatusCode.OK, safe.StatusCode);
        }

        using var response = await PostAsync("/v1/chat/completions", UnsafePrompt);

        var message = await ErrorAssert.IsOpenAiErrorAsync(response, 400);
        Assert.Equal("{'error': 'Violated content safety policy'}", message);
        Assert.Equal(2, Guard.CountFor("/v1/completions"));
        var prompt = Guard.Requests.Last(r => r.Path == "/v1/completions").Body;
        Assert.Contains("Meta-Llama/Llama-Guard-3-8B".ToLowerInvariant(), prompt.ToLowerInvariant(), StringComparison.Ordinal);
        Assert.Contains("S14: Code Interpreter Abuse.", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Moderations_naming_a_model_group_are_proxied_to_it()
    {
        Gateway = await GatewayInstance.StartAsync($$"""
            model_list:
              - model_name: text-moderation
                litellm_params:
                  model: hosted_vllm/upstream-moderation
                  api_base: {{Guard.BaseUrl}}
            guardrails:
              - guardrail_name: llama-guard
                litellm_params:
                  guardrail: llama_guard
                  mode: pre_call
                  default_on: true
                  api_base: {{Guard.RootUrl}}
            general_settings:
              master_key: {{Configs.MasterKey}}
            """);

        using var response = await PostAsync("/v1/moderations", """{"model":"text-moderation","input":"hello"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var forwarded = Assert.Single(Guard.Requests, r => r.Path == "/v1/moderations");
        Assert.Contains("\"upstream-moderation\"", forwarded.Body, StringComparison.Ordinal);
        Assert.Equal(0, Guard.CountFor("/v1/completions"));
    }

    [Fact]
    public async Task A_guardrail_added_by_a_reload_applies_to_the_next_requests()
    {
        await StartAsync(defaultOn: false);
        using (var before = await PostAsync("/v1/chat/completions", UnsafePrompt))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        var yaml = await File.ReadAllTextAsync(Gateway!.ConfigPath);
        await File.WriteAllTextAsync(Gateway.ConfigPath, yaml.Replace("default_on: false", "default_on: true", StringComparison.Ordinal));

        Assert.True(await Eventually.TrueAsync(async () =>
        {
            using var after = await PostAsync("/v1/chat/completions", UnsafePrompt);
            return after.StatusCode == HttpStatusCode.BadRequest;
        }, TimeSpan.FromSeconds(20)));
    }

    private GuardrailStats Stats => Gateway!.Services.GetRequiredService<GuardrailStats>();

    private static string With(string json, string members) => "{" + members + json[1..];
}
