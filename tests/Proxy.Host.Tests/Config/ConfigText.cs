namespace Proxy.Host.Tests.Config;

/// <summary>Config files used by several tests.</summary>
internal static class ConfigText
{
    /// <summary>Copy of shared/bench/gateway-config.yaml.</summary>
    public const string Bench = """
        # LiteLLM-style proxy config for benchmarking a gateway with bench/run.sh.
        # One model group, `fake-model`, served by fake-vllm, which run.sh starts on 127.0.0.1:18000 (UPSTREAM_PORT).
        # Clients call the gateway with `Authorization: Bearer sk-bench` and "model": "fake-model".
        # The same file works with LiteLLM itself: `litellm --config bench/gateway-config.yaml --port 4000`.
        model_list:
          - model_name: fake-model
            litellm_params:
              model: openai/fake-model              # generic OpenAI-compatible provider; hosted_vllm/fake-model is LiteLLM's vLLM alias
              api_base: http://127.0.0.1:18000/v1   # fake-vllm (change with UPSTREAM_PORT)
              api_key: sk-fake-upstream             # fake-vllm ignores it; a real vLLM only checks it with --api-key
              timeout: 60
              stream_timeout: 60
            model_info:
              max_input_tokens: 4096                # fake-vllm --max-model-len default

        litellm_settings:
          num_retries: 0                            # a benchmark must not hide upstream errors behind retries
          request_timeout: 60
          drop_params: true
          set_verbose: false
          json_logs: false

        router_settings:
          routing_strategy: simple-shuffle

        general_settings:
          master_key: sk-bench                      # the bearer token the bench sends
          disable_spend_logs: true                  # no database in the bench
        """;

    /// <summary>A load-balancing config in the style users bring from LiteLLM, with its non-LiteLLM keys.</summary>
    public const string RouterLb = """
        model_list:
          - model_name: deepseek-r1
            litellm_params:
              model: hosted_vllm/deepseek-r1
              api_base: http://vllm-a:8000/v1
              api_key: os.environ/VLLM_KEY
              input_cost_per_token: 0.0000028
              output_cost_per_token: 0.0000028
              rpm: 3000
              tpm: 1200000
              weight: 0.5
              priority: 100
              metadata:
                region: cn-south-1
          - model_name: deepseek-r1
            litellm_params:
              model: hosted_vllm/deepseek-r1
              api_base: http://vllm-b:8000/v1
              api_key: os.environ/VLLM_KEY
              input_cost_per_token: 0.0000028
              output_cost_per_token: 0.0000028
              rpm: 2000
              tpm: 1200000
              weight: 0.3
              priority: 100
              metadata:
                region: cn-south-1
          - model_name: qwen3
            litellm_params:
              model: hosted_vllm/qwen3
              api_base: http://vllm-c:8000/v1
              input_cost_per_token: 0.000012
              output_cost_per_token: 0.000012
              weight: 0.2
              tags: [a, b]
              fallback: True
          - model_name: llama3
            litellm_params:
              model: openai/llama3
              api_base: http://vllm-d:8000/v1
              input_cost_per_token: 0.0000008
              output_cost_per_token: 0.0000008
              fallback: true

        router_settings:
          routing_strategy: cost-based-routing
          num_retries: 3
          allowed_fails: 6
          cooldown_time: 120
          retry_policy:
            RateLimitErrorRetries: 5
            TimeoutErrorRetries: 4
            InternalServerErrorRetries: 3
          fallbacks:
            - deepseek-r1: [qwen3, llama3]
            - qwen3: [llama3]
          default_fallbacks: [llama3]
          enable_pre_call_checks: true
          health_check_interval: 30
          timeout: 90

        litellm_settings:
          context_window_fallbacks:
            - deepseek-r1: [qwen3]
        """;
}
