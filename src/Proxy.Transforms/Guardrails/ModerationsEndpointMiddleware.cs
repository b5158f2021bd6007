using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;
using Proxy.Transforms.Body;

namespace Proxy.Transforms.Guardrails;

/// <summary>
/// Answers <c>POST /v1/moderations</c> (and <c>/moderations</c>) with a configured guardrail's backend, in OpenAI's
/// schema, so the tutorial's wrapper service is optional. A request whose <c>model</c> names a model group of the config
/// is proxied to it as before (LiteLLM routes moderations by model). Otherwise the guardrail named by <c>model</c>
/// answers, else the one whose own <c>model</c> matches, else the first default_on one, else the first one. An answer
/// from a guardrail goes through the virtual key's checks (model access for a named model, budget, rpm/tpm/parallel
/// limits: the request stages ordered before guardrails) and is a spend-log row like any call, and takes at most
/// <see cref="MaxInputs"/> inputs, since each may be its own call to the guard.
/// </summary>
internal sealed class ModerationsEndpointMiddleware(
    RequestDelegate next, IGuardrailSettingsSource source, GuardBackendClient client, GuardrailStats stats, IOpenAiErrorWriter errors,
    IEnumerable<IGatewayRequestStage> stages)
{
    public const int MaxInputs = 32;

    // The virtual key's stages (order below the guardrails' 200): nothing after them applies to a guard's answer.
    private readonly IGatewayRequestStage[] _keyStages = [.. stages.Where(s => s.Order < 200).OrderBy(s => s.Order)];

    public Task InvokeAsync(HttpContext context)
    {
        var settings = source.Current;
        if (!settings.Any || !HttpMethods.IsPost(context.Request.Method) || !IsModerationsPath(context.Request.Path))
        {
            return next(context);
        }

        return HandleAsync(context, settings);
    }

    private static bool IsModerationsPath(PathString path) =>
        path.Value is { } value && (value.Equals("/v1/moderations", StringComparison.OrdinalIgnoreCase) || value.Equals("/moderations", StringComparison.OrdinalIgnoreCase));

    private async Task HandleAsync(HttpContext context, GuardrailSettings settings)
    {
        var read = await RequestBodyReader.ReadAsync(context.Request, settings.MaxRequestBodyBytes, context.RequestAborted);
        using var body = read.Body;
        if (read.TooLarge)
        {
            await errors.WriteAsync(context, GatewayError.BodyTooLarge(settings.MaxRequestBodyBytes));
            return;
        }

        GuardInput input;
        try
        {
            input = GuardInput.Parse(body.Span);
        }
        catch (JsonException)
        {
            await errors.WriteAsync(context, GatewayError.InvalidJson("check the syntax"));
            return;
        }
        catch (InvalidOperationException)
        {
            await errors.WriteAsync(context, GuardrailErrors.Unreadable("a string in it is not valid Unicode (a lone surrogate escape?)"));
            return;
        }

        if (input.Model is { } model && settings.ModelGroups.Contains(model))
        {
            // A model group answers it: hand the body on to the proxy pipeline, which reads it again.
            context.Request.Body = new MemoryStream(body.Span.ToArray(), writable: false);
            context.Request.ContentLength = body.Length;
            await next(context);
            return;
        }

        if (input.Texts.Count == 0)
        {
            await errors.WriteAsync(context, new GatewayError(400, "invalid_request_error",
                "Missing required parameter 'input': send a string or a list of strings to classify.", "input"));
            return;
        }

        if (input.Texts.Count > MaxInputs)
        {
            await errors.WriteAsync(context, new GatewayError(400, "invalid_request_error",
                $"At most {MaxInputs} inputs per moderation request here (this one has {input.Texts.Count}); split it into several requests.", "input"));
            return;
        }

        var guardrail = Pick(settings, input.Model);
        if (GatewayRequestContext.Get(context) is { } call)
        {
            call.SetEndpoint(OpenAiEndpoint.Moderations);
            // Spend and metrics see the guard as the model group. Key access is checked on the model the body names;
            // without one (null, as LiteLLM leaves it unchecked) there is nothing to check.
            call.Route(input.Model!, guardrail.Model ?? guardrail.Name, stream: false, clientWantsUsage: false, estimatedInputTokens: body.Length / 4);
            foreach (var stage in _keyStages)
            {
                if (await stage.InvokeAsync(context, call, body.Memory))
                {
                    return;
                }
            }
        }

        var counters = stats.For(guardrail.Name);
        counters.Check();
        var batch = await client.ModerateAsync(guardrail, input.Texts, context.RequestAborted);
        if (batch.Results is not { } results)
        {
            // There is no request to let through here, so fail_open does not apply: the caller must know.
            counters.Failure(open: false);
            await errors.WriteAsync(context, GuardrailErrors.Unavailable(guardrail, batch.Failure ?? "no verdict"));
            return;
        }

        foreach (var result in results)
        {
            if (result.Flagged)
            {
                counters.Block();
            }
            else
            {
                counters.Pass();
            }
        }

        var request = GatewayRequestContext.Get(context);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await using (var json = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            WriteResponse(json, "modr-" + (request?.CallId ?? Guid.NewGuid().ToString("N")), guardrail.Model ?? guardrail.Name, results);
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    internal static GuardrailDefinition Pick(GuardrailSettings settings, string? model)
    {
        if (model is not null)
        {
            if (settings.Find(model) is { } named)
            {
                return named;
            }

            foreach (var guardrail in settings.All)
            {
                if (string.Equals(guardrail.Model, model, StringComparison.Ordinal))
                {
                    return guardrail;
                }
            }
        }

        foreach (var guardrail in settings.All)
        {
            if (guardrail.DefaultOn)
            {
                return guardrail;
            }
        }

        return settings.All[0];
    }

    internal static void WriteResponse(Utf8JsonWriter json, string id, string model, IReadOnlyList<ModerationResult> results)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, id);
        json.WriteString("model"u8, model);
        json.WriteStartArray("results"u8);
        foreach (var result in results)
        {
            json.WriteStartObject();
            json.WriteBoolean("flagged"u8, result.Flagged);
            json.WriteStartObject("categories"u8);
            foreach (var (name, flagged) in result.Categories)
            {
                json.WriteBoolean(name, flagged);
            }

            json.WriteEndObject();
            json.WriteStartObject("category_scores"u8);
            foreach (var (name, score) in result.CategoryScores)
            {
                json.WriteNumber(name, score);
            }

            json.WriteEndObject();
            // Only text is judged here.
            json.WriteStartObject("category_applied_input_types"u8);
            foreach (var (name, _) in result.Categories)
            {
                json.WriteStartArray(name);
                json.WriteStringValue("text"u8);
                json.WriteEndArray();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
