using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Abstractions;

namespace Proxy.Transforms.Guardrails;

/// <summary>
/// Applies the guardrails a request is subject to (default_on, named in its <c>guardrails</c>, or turned on for its
/// virtual key): pre_call ones are awaited here, before routing, so a flagged input never reaches a model; during_call
/// ones start here and a tap holds the answer until they pass; post_call ones get a tap that checks the answer before
/// it is released. Anything that must be judged and cannot be read fails closed: a body the guard parser cannot read
/// (the routing scanner's limits apply, so nothing routing accepted is skipped), a string that is not valid Unicode,
/// and prompt content no text guard can judge (token ids, prompt_embeds, content without any text) are refused with
/// a 400 when a pre_call or during_call guardrail applies.
/// </summary>
internal sealed class GuardrailStage(IGuardrailSettingsSource source, GuardrailChecker checker, IOpenAiErrorWriter errors) : IGatewayRequestStage
{
    public int Order => 200;

    public ValueTask<bool> InvokeAsync(HttpContext context, GatewayRequestContext request, ReadOnlyMemory<byte> body)
    {
        var settings = source.Current;
        // Without guardrails (the common case) this stage costs one field read.
        // count_tokens only counts: nothing is generated, so there is nothing to judge.
        // An operation on a stored response (retrieve, delete, cancel, list its input items) sends no text either.
        if (!settings.Any || request.Endpoint is OpenAiEndpoint.Moderations or OpenAiEndpoint.AnthropicCountTokens
            or OpenAiEndpoint.ResponsesRetrieve or OpenAiEndpoint.ResponsesDelete or OpenAiEndpoint.ResponsesCancel or OpenAiEndpoint.ResponsesInputItems)
        {
            return ValueTask.FromResult(false);
        }

        return new ValueTask<bool>(InvokeCoreAsync(context, request, body, settings));
    }

    private async Task<bool> InvokeCoreAsync(HttpContext context, GatewayRequestContext request, ReadOnlyMemory<byte> body, GuardrailSettings settings)
    {
        GuardInput input;
        try
        {
            input = GuardInput.Parse(body.Span);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Whether a guardrail applies is in the body too: what cannot be read is refused, never let through.
            await errors.WriteAsync(context, GuardrailErrors.Unreadable(ex is InvalidOperationException
                ? "a string in it is not valid Unicode (a lone surrogate escape?)"
                : "it is not valid JSON within the gateway's limits"));
            return true;
        }

        var conversation = input.Conversation();
        var answersText = request.Endpoint is OpenAiEndpoint.ChatCompletions or OpenAiEndpoint.Completions or OpenAiEndpoint.Responses;
        foreach (var guardrail in settings.All)
        {
            if (!Applies(guardrail, input.Requested) && !Applies(guardrail, request.Caller.Guardrails))
            {
                continue;
            }

            var modes = guardrail.Modes;
            if ((modes & (GuardrailModes.PreCall | GuardrailModes.DuringCall)) != 0 && (input.HasUnjudgeable || (conversation.Count == 0 && input.HasNonTextContent)))
            {
                await errors.WriteAsync(context, GuardrailErrors.Unjudgeable(guardrail));
                return true;
            }

            if ((modes & GuardrailModes.PreCall) != 0 && conversation.Count > 0)
            {
                var refused = await checker.RunAsync(guardrail, conversation, assessAgent: false, request, context.RequestAborted);
                if (refused is { } error)
                {
                    await errors.WriteAsync(context, error);
                    return true;
                }
            }

            if ((modes & GuardrailModes.DuringCall) != 0 && conversation.Count > 0)
            {
                // Started now, awaited by the tap when the answer's first piece is about to be released.
                var check = checker.RunAsync(guardrail, conversation, assessAgent: false, request, context.RequestAborted);
                request.AddResponseTap(new DuringCallTap(check));
            }

            if ((modes & GuardrailModes.PostCall) != 0 && answersText)
            {
                request.AddResponseTap(new PostCallTap(checker, guardrail, conversation, request));
            }
        }

        return false;
    }

    private static bool Applies(GuardrailDefinition guardrail, IReadOnlyList<string>? requested)
    {
        if (guardrail.DefaultOn)
        {
            return true;
        }

        if (requested is null)
        {
            return false;
        }

        foreach (var name in requested)
        {
            if (string.Equals(name, guardrail.Name, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
