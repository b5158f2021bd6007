using Proxy.Host.Config;

namespace Proxy.Host.Tests.Config;

public sealed class GuardrailsBinderTests
{
    private static ConfigLoadResult Parse(string yaml) =>
        ConfigLoader.Parse(yaml, "config.yaml", new FakeEnvironment().Get, new FakeEnvironment().Set);

    private static List<string> Of(ConfigLoadResult result, ConfigSeverity severity) =>
        result.Diagnostics.Where(d => d.Severity == severity).Select(d => d.ToString()).ToList();

    [Fact]
    public void Guard_settings_bind_timeout_failure_mode_and_api()
    {
        var result = Parse("""
            guardrails:
              - guardrail_name: lg
                litellm_params:
                  guardrail: llama_guard
                  mode: [pre_call, post_call]
                  api_base: http://guard:8002
                  model: llama-guard-3
                  timeout: 2.5
                  unreachable_fallback: fail_open
                  llama_guard_api: chat
            """);

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        Assert.DoesNotContain(Of(result, ConfigSeverity.Warning), w => w.Contains("guardrails", StringComparison.Ordinal));
        var guard = Assert.Single(result.Config!.Guardrails);
        Assert.Equal(2.5, guard.Timeout);
        Assert.True(guard.FailOpen);
        Assert.True(guard.LlamaGuardChat);
        Assert.Empty(guard.Extra);
        Assert.Equal(SupportLevel.Honoured, ConfigSupport.Of("guardrails[*].litellm_params.unreachable_fallback"));
    }

    [Fact]
    public void Invalid_guard_settings_are_errors_naming_the_path()
    {
        var result = Parse("""
            guardrails:
              - guardrail_name: lg
                litellm_params:
                  guardrail: llama_guard
                  mode: pre_call
                  unreachable_fallback: sometimes
              - guardrail_name: lg
                litellm_params:
                  guardrail: openai_moderation
                  mode: pre_call
                  api_base: not a url
            """);

        var errors = Of(result, ConfigSeverity.Error);
        Assert.False(result.Succeeded);
        Assert.Contains(errors, e => e.Contains("guardrails[0].litellm_params.unreachable_fallback: expected fail_closed or fail_open", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("guardrails[0].litellm_params.api_base: is required for llama_guard", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("guardrails[1].guardrail_name: 'lg' is defined twice", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("guardrails[1].litellm_params.api_base: 'not a url' is not an absolute http(s) URL", StringComparison.Ordinal));
    }

    [Fact]
    public void Unsupported_guardrail_types_and_modes_are_warnings()
    {
        var result = Parse("""
            guardrails:
              - guardrail_name: pii
                litellm_params:
                  guardrail: presidio
                  mode: [pre_call, sometimes]
            """);

        Assert.True(result.Succeeded);
        var warnings = Of(result, ConfigSeverity.Warning);
        Assert.Contains(warnings, w => w.Contains("'presidio' is not supported by this gateway", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("unknown mode 'sometimes'", StringComparison.Ordinal));
    }
}
