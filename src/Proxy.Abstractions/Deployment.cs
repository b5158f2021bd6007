namespace Proxy.Abstractions;

/// <summary>
/// What the gateway knows about one deployment (one entry of model_list), kept beside its YARP destination and
/// looked up by destination id. Immutable: a config reload builds new instances.
/// </summary>
public sealed record Deployment
{
    public required string Id { get; init; }

    public required string ModelGroup { get; init; }

    /// <summary>Provider prefix from litellm_params.model: "hosted_vllm", "openai", "anthropic", "azure", "azure_ai" or "" (bare OpenAI-compatible).</summary>
    public required string Provider { get; init; }

    /// <summary>The model name the upstream expects (litellm_params.model without the provider prefix).</summary>
    public required string UpstreamModel { get; init; }

    /// <summary>api_base without a trailing slash; null when the deployment only answers with mock_response.</summary>
    public string? ApiBase { get; init; }

    public Secret? ApiKey { get; init; }

    /// <summary>The value of <see cref="AuthHeaderName"/> ("Bearer &lt;api_key&gt;" for most), built once so that the hot path does not concatenate.</summary>
    public string? AuthorizationHeader { get; init; }

    /// <summary>The header the upstream reads its key from: Authorization, <c>api-key</c> (Azure) or <c>x-api-key</c> (Anthropic).</summary>
    public string AuthHeaderName { get; init; } = "Authorization";

    /// <summary>What the upstream speaks for chat requests.</summary>
    public UpstreamApi Api { get; init; }

    /// <summary>
    /// The upstream serves Anthropic's <c>/v1/messages</c> itself (<c>anthropic/</c>, or vLLM with
    /// <c>disable_anthropic_translation</c>): a Messages request is passed through with only its model rewritten.
    /// </summary>
    public bool ServesAnthropicMessages { get; init; }

    /// <summary>
    /// The upstream serves OpenAI's Responses API itself (vLLM, OpenAI, OpenAI-compatible; off with
    /// model_info.supports_responses_api: false, and for providers without it).
    /// </summary>
    public bool ServesResponses { get; init; }

    public string? MockResponse { get; init; }

    /// <summary>
    /// The client's x-* headers (LiteLLM's allow list) go to this deployment: general_settings or
    /// model_group_settings.forward_client_headers_to_llm_api names its group.
    /// </summary>
    public bool ForwardClientHeaders { get; init; }

    /// <summary>general_settings.litellm_key_header_name: the header clients send their gateway key in, never forwarded.</summary>
    public string? ClientKeyHeader { get; init; }

    public required TimeSpan Timeout { get; init; }

    public required TimeSpan StreamTimeout { get; init; }

    public double? Weight { get; init; }

    public int? Rpm { get; init; }

    public int? Tpm { get; init; }

    /// <summary>litellm_params.max_parallel_requests: requests in flight to this deployment at most.</summary>
    public int? MaxParallelRequests { get; init; }

    public int Order { get; init; }

    public double InputCostPerToken { get; init; }

    public double OutputCostPerToken { get; init; }

    public int? MaxInputTokens { get; init; }

    public string? RegionName { get; init; }

    /// <summary>Live counters; the same instance across reloads for the same id.</summary>
    public required DeploymentStats Stats { get; init; }

    /// <summary>Per-deployment cooldown override (litellm_params.cooldown_time), seconds.</summary>
    public double? CooldownTime { get; init; }

    /// <summary>Upstream URLs per endpoint, built once (index = (int)OpenAiEndpoint).</summary>
    public required IReadOnlyList<Uri?> EndpointUris { get; init; }

    /// <summary>Exception prefix LiteLLM uses in messages for this provider ("Hosted_vllm", "OpenAI").</summary>
    public string ProviderLabel => Provider switch
    {
        "hosted_vllm" => "Hosted_vllm",
        "anthropic" => "Anthropic",
        "azure" => "Azure",
        "azure_ai" => "Azure_ai",
        _ => "OpenAI",
    };

    public Uri? UriFor(OpenAiEndpoint endpoint) => EndpointUris[(int)endpoint];
}
