namespace Proxy.Abstractions;

/// <summary>
/// An error the client sees, as a value. Only the host's OpenAiErrorWriter turns it into
/// <c>{"error":{"message","type","param","code"}}</c>; everything else returns one of these.
/// <see cref="Code"/> is the HTTP status as a string because LiteLLM sends it that way and drop-in clients read it.
/// </summary>
public readonly record struct GatewayError(int Status, string Type, string Message, string? Param = null, int RetryAfterSeconds = 0)
{
    public string Code => Status.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Extra members written inside the error object (a guardrail's verdict); null for most errors.</summary>
    public IGatewayErrorDetails? Details { get; init; }

    public static GatewayError InvalidJson(string detail) => new(400, "invalid_request_error",
        $"Request body is not valid JSON: {detail}. Send a JSON object such as {{\"model\": \"...\", \"messages\": [...]}}.");

    public static GatewayError InvalidUtf8(int offset) => new(400, "invalid_request_error",
        $"The request body is not valid UTF-8 (first invalid byte at offset {offset}); JSON text must be UTF-8 encoded.");

    public static GatewayError NotAnObject() => new(400, "invalid_request_error",
        "Request body must be a JSON object such as {\"model\": \"...\", \"messages\": [...]}.");

    public static GatewayError MissingModel() => new(400, "invalid_request_error",
        "Missing required parameter 'model'. Pass the name of a model group; GET /v1/models lists them.", "model");

    public static GatewayError ModelNotString() => new(400, "invalid_request_error",
        "Parameter 'model' must be a string naming a model group; GET /v1/models lists them.", "model");

    // LiteLLM answers an unknown model group with 400 (OpenAI itself uses 404); drop-in means LiteLLM's status.
    public static GatewayError UnknownModel(string model, string available) => new(400, "invalid_request_error",
        $"Invalid model name passed in model={model}. Call `/v1/models` to view available models for your key. Available model groups: {available}",
        "model");

    public static GatewayError BodyTooLarge(long maxBytes) => new(413, "invalid_request_error",
        $"Request body is larger than the gateway's limit of {maxBytes} bytes; send a smaller request or raise general_settings.max_request_size_mb.");

    public static GatewayError NoApiKey() => new(401, "auth_error",
        "Authentication Error, No api key passed in. Send it as 'Authorization: Bearer sk-...'.");

    public static GatewayError InvalidApiKey(string abbreviated) => new(401, "auth_error",
        $"Authentication Error, Invalid proxy server token passed. Received API Key = {abbreviated}. Unable to find token in cache or database; check the key you sent.");

    // LiteLLM's RouterRateLimitError: a 429 so that clients back off, with the wait in the message and Retry-After.
    public static GatewayError NoDeployments(string modelGroup, int retryAfterSeconds, bool preCallChecks, string cooldownList) => new(429,
        "throttling_error",
        $"No deployments available for selected model, Try again in {retryAfterSeconds} seconds. Passed model={modelGroup}. pre-call-checks={(preCallChecks ? "True" : "False")}, cooldown_list=[{cooldownList}]",
        null, retryAfterSeconds);

    public static GatewayError ContextWindowPreCheck(string modelGroup, int inputTokens) => new(400, "invalid_request_error",
        $"litellm.ContextWindowExceededError: Context Window exceeded for given call. No models have context window large enough for this call. Passed model={modelGroup}, input tokens={inputTokens}. Shorten the prompt or use a model group with a larger context.");

    public static GatewayError MockFallback(string modelGroup, string fallbacks) => new(500, "internal_server_error",
        $"litellm.InternalServerError: This is a mock exception for model={modelGroup}, to trigger a fallback. Fallbacks=[{fallbacks}]");

    public static GatewayError MockRateLimit(string modelGroup) => new(429, "throttling_error",
        $"litellm.RateLimitError: This is a mock exception for model={modelGroup}, to trigger a rate limit error.");

    public static GatewayError MockContextWindow(string modelGroup) => new(400, "invalid_request_error",
        $"litellm.ContextWindowExceededError: This is a mock exception for model={modelGroup}, to trigger a context window fallback.");

    public static GatewayError MockContentPolicy(string modelGroup) => new(400, "invalid_request_error",
        $"litellm.ContentPolicyViolationError: This is a mock exception for model={modelGroup}, to trigger a content policy fallback.");

    public static GatewayError UpstreamConnection(string modelGroup, string provider, string detail) => new(502, "api_connection_error",
        $"litellm.APIConnectionError: {provider}Exception - {detail}. Received Model Group={modelGroup}. The upstream could not be reached; try again or check the deployment's api_base.");

    public static GatewayError UpstreamTimeout(string modelGroup, double seconds) => new(408, "timeout",
        $"litellm.Timeout: Request timed out after {seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} seconds waiting for the upstream. Received Model Group={modelGroup}. Raise 'timeout' / 'stream_timeout' for the deployment or retry.");

    public static GatewayError UpstreamStreamFailed(string modelGroup) => new(502, "api_connection_error",
        $"litellm.APIConnectionError: the upstream stream for model group {modelGroup} ended before it was complete. The partial answer above is incomplete; retry the request.");

    public static GatewayError MethodNotAllowed() => new(405, "invalid_request_error", "Method not allowed on this endpoint.");

    public static GatewayError NotFound(string path) => new(404, "not_found_error", $"Route {path} does not exist on this gateway.");

    // A guardrail and the upstream could read different copies (Python keeps the last, a streaming reader the first).
    public static GatewayError DuplicatePrompt() => new(400, "invalid_request_error",
        "The body has 'messages', 'prompt' or 'input' more than once; send each member once.");

    public static GatewayError Internal() => new(500, "internal_server_error",
        "The gateway failed while handling this request. It has been logged; retry, and report it if it repeats.");
}
