using System.Text.Json;
using System.Text.RegularExpressions;

namespace FakeUpstream;

/// <summary>
/// Azure OpenAI's addressing in front of the chat, completions and embeddings fakes:
/// <c>/openai/deployments/{deployment}/{operation}?api-version=...</c> (or the v1 API, <c>/openai/v1/{operation}</c>)
/// with the key in <c>api-key</c>, and Azure's content_filter 400 for a prompt the filter refuses.
/// </summary>
internal sealed partial class FakeHandler
{
    /// <returns>The vLLM path the Azure request stands for, or null when an Azure error was written.</returns>
    private async Task<string?> AzurePathAsync(HttpContext context, string path, JsonElement? root, CancellationToken cancellationToken)
    {
        var match = AzureRoute().Match(path);
        if (!match.Success)
        {
            await AzureErrorAsync(context, 404, "404", "Resource not found", cancellationToken);
            return null;
        }

        var v1 = match.Groups["v1"].Success;
        if (!v1 && string.IsNullOrEmpty(context.Request.Query["api-version"].ToString()))
        {
            await AzureErrorAsync(context, 404, "404", "Resource not found", cancellationToken);
            return null;
        }

        if (string.IsNullOrEmpty(context.Request.Headers["api-key"].ToString()))
        {
            await AzureErrorAsync(context, 401, "401",
                "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
                cancellationToken);
            return null;
        }

        var operation = match.Groups["op"].Value;
        if (server.Options.AzureContentFilter && operation == "chat/completions" && root is { ValueKind: JsonValueKind.Object } request
            && request.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array
            && messages.EnumerateArray().Any(m => m.TryGetProperty("content", out var c) && IsUnsafe(ContentText(c), server.Options)))
        {
            await WriteJsonAsync(context, 400, Json(w =>
            {
                w.WriteStartObject();
                w.WriteStartObject("error");
                w.WriteString("message",
                    "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766");
                w.WriteNull("type");
                w.WriteString("param", "prompt");
                w.WriteString("code", "content_filter");
                w.WriteNumber("status", 400);
                w.WriteStartObject("innererror");
                w.WriteString("code", "ResponsibleAIPolicyViolation");
                w.WriteStartObject("content_filter_result");
                w.WriteStartObject("violence");
                w.WriteBoolean("filtered", true);
                w.WriteString("severity", "high");
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndObject();
            }), cancellationToken);
            return null;
        }

        return "/v1/" + operation;
    }

    private static Task AzureErrorAsync(HttpContext context, int status, string code, string message, CancellationToken cancellationToken) =>
        WriteJsonAsync(context, status, Json(w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteString("code", code);
            w.WriteString("message", message);
            w.WriteEndObject();
            w.WriteEndObject();
        }), cancellationToken);

    [GeneratedRegex("^/openai/(?:deployments/(?<deployment>[^/]+)|(?<v1>v1))/(?<op>chat/completions|completions|embeddings)$")]
    private static partial Regex AzureRoute();
}
