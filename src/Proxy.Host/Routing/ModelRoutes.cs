using System.Collections.Frozen;
using Proxy.Abstractions;
using Yarp.ReverseProxy.Configuration;

namespace Proxy.Host.Routing;

/// <summary>
/// The YARP routes of the model pipeline: one per path the gateway serves for a model group, each tagged with its
/// <see cref="OpenAiEndpoint"/>. They never change with the config, so their endpoint kinds are computed once.
/// </summary>
internal static class ModelRoutes
{
    public const string EndpointMetadataKey = "gateway.endpoint";

    private static readonly string[] Post = ["POST"];
    private static readonly string[] Get = ["GET"];
    private static readonly string[] Delete = ["DELETE"];

    // LiteLLM's /vllm/{endpoint:path} takes every method the upstream may serve.
    private static readonly string[] AnyMethod = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    private static readonly (OpenAiEndpoint Endpoint, string Id, string[] Patterns, string[] Methods)[] Table =
    [
        (OpenAiEndpoint.ChatCompletions, "chat/completions", OpenAiPaths("chat/completions"), Post),
        (OpenAiEndpoint.Completions, "completions", OpenAiPaths("completions"), Post),
        (OpenAiEndpoint.Embeddings, "embeddings", OpenAiPaths("embeddings"), Post),
        (OpenAiEndpoint.Moderations, "moderations", OpenAiPaths("moderations"), Post),
        // Anthropic's Messages API, with and without /v1 as LiteLLM serves it (query strings such as ?beta=true do not matter).
        (OpenAiEndpoint.AnthropicMessages, "messages", ["/v1/messages", "/messages"], Post),
        (OpenAiEndpoint.AnthropicCountTokens, "messages/count_tokens", ["/v1/messages/count_tokens", "/messages/count_tokens"], Post),
        // OpenAI's Responses API: create, and the operations on a stored response (its id names the deployment).
        (OpenAiEndpoint.Responses, "responses", ["/v1/responses", "/responses"], Post),
        (OpenAiEndpoint.ResponsesRetrieve, "responses/retrieve", ["/v1/responses/{response_id}", "/responses/{response_id}"], Get),
        (OpenAiEndpoint.ResponsesDelete, "responses/delete", ["/v1/responses/{response_id}", "/responses/{response_id}"], Delete),
        (OpenAiEndpoint.ResponsesCancel, "responses/cancel", ["/v1/responses/{response_id}/cancel", "/responses/{response_id}/cancel"], Post),
        (OpenAiEndpoint.ResponsesInputItems, "responses/input_items", ["/v1/responses/{response_id}/input_items", "/responses/{response_id}/input_items"], Get),
        (OpenAiEndpoint.Rerank, "rerank", ["/rerank", "/v1/rerank", "/v2/rerank"], Post),
        // Multipart: the form's model field picks the group, so no Azure-style path (whose model would be the path's).
        (OpenAiEndpoint.AudioTranscriptions, "audio/transcriptions", ["/v1/audio/transcriptions", "/audio/transcriptions"], Post),
        (OpenAiEndpoint.AudioTranslations, "audio/translations", ["/v1/audio/translations", "/audio/translations"], Post),
        (OpenAiEndpoint.Score, "score", ["/score", "/v1/score"], Post),
        (OpenAiEndpoint.Tokenize, "tokenize", ["/tokenize"], Post),
        (OpenAiEndpoint.Detokenize, "detokenize", ["/detokenize"], Post),
        (OpenAiEndpoint.Pooling, "pooling", ["/pooling"], Post),
        (OpenAiEndpoint.Classify, "classify", ["/classify"], Post),
        (OpenAiEndpoint.VllmPassThrough, "vllm", ["/vllm/{**path}"], AnyMethod),
    ];

    public static FrozenDictionary<string, OpenAiEndpoint> EndpointByRouteId { get; } =
        Build().ToFrozenDictionary(r => r.RouteId, r => Enum.Parse<OpenAiEndpoint>(r.Metadata![EndpointMetadataKey]), StringComparer.Ordinal);

    public static List<RouteConfig> Build()
    {
        var routes = new List<RouteConfig>();
        foreach (var (endpoint, id, patterns, methods) in Table)
        {
            for (var i = 0; i < patterns.Length; i++)
            {
                routes.Add(new RouteConfig
                {
                    RouteId = $"{id}#{i}",
                    ClusterId = SnapshotBuilder.UnroutedClusterId,
                    Match = new RouteMatch { Path = patterns[i], Methods = methods },
                    Metadata = new Dictionary<string, string> { [EndpointMetadataKey] = endpoint.ToString() },
                });
            }
        }

        return routes;
    }

    // OpenAI's own paths, with and without /v1, and the Azure-style ones whose path names the model.
    private static string[] OpenAiPaths(string suffix) =>
        ["/v1/" + suffix, "/" + suffix, "/engines/{model}/" + suffix, "/openai/deployments/{model}/" + suffix];
}
