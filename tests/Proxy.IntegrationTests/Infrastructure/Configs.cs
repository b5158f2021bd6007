namespace Proxy.IntegrationTests.Infrastructure;

/// <summary>Config files used by the tests, in LiteLLM's schema.</summary>
public static class Configs
{
    public const string MasterKey = "sk-test-master-4242";
    public const string UpstreamKey = "sk-upstream-secret-1234";

    /// <summary>One vLLM-like deployment and one mock deployment; retries off so that error tests see each failure once.</summary>
    public static string SingleUpstream(string baseUrl, string extraParams = "", string extraSections = "") => $$"""
        model_list:
          - model_name: qwen3-8b
            litellm_params:
              model: hosted_vllm/Qwen/Qwen3-8B
              api_base: {{baseUrl}}
              api_key: {{UpstreamKey}}
        {{extraParams}}
          - model_name: mock-model
            litellm_params:
              model: openai/mock-model
              mock_response: "Hello from the mock deployment."
        router_settings:
          num_retries: 0
        general_settings:
          master_key: {{MasterKey}}
        {{extraSections}}
        """;
}
